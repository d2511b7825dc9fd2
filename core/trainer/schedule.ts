/**
 * The learning-rate schedule of spec B.2: linear warm-up from start_factor·base over W = int(warmup·T) steps, then
 * cosine annealing to 0 over T − W steps. It is PyTorch's
 * SequentialLR(LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max=T−W), milestones=[W], last_epoch=0),
 * whose `last_epoch=0` makes the switch one step early. Closed form for the lr used by optimizer step s (0-indexed):
 *
 *   lr(s) = base·(f + (1 − f)·s/W)                      for s ≤ W − 2
 *   lr(s) = base·½·(1 + cos(π·(s − W + 1)/(T − W)))     for s ≥ W − 1
 *
 * (reference: lab/train/schedulers.py:13-35; the off-by-one is reproduced on purpose, spec H.7).
 *
 * Fewer than two warm-up steps (W = 0 or 1, e.g. T < 20 at warmup_fraction 0.1, or warmup_fraction 0): torch's
 * LinearLR(total_iters = W ≤ 1) leaves the lr at start_factor·base, and the chained CosineAnnealingLR then anneals
 * from THAT value, so the whole run uses start_factor times the base lr:
 *
 *   lr(0) = base·f,   lr(s) = base·f·½·(1 + cos(π·(s − 1)/(T − W)))   for s ≥ 1
 *
 * (checked against torch's SequentialLR for T = 1..59, warmup 0..1, f ∈ {0.1, 0.5, 1}; fixture
 * tests/fixtures/golden/lr_schedule.json from tests/reference/torch_reference.py). With start_factor 1 that is a
 * plain cosine schedule shifted by one step; with the default 0.1 it is ten times lower, as the reference trains.
 */

export interface ScheduleConfig {
  /** fraction of the training steps used for warm-up; W = int(warmup_fraction · T) (reference `warmup_steps` 0.1) */
  warmup_fraction: number
  /** warm-up starts at start_factor · base lr (reference 0.1) */
  start_factor: number
}

const REFERENCE_SCHEDULE: ScheduleConfig = { warmup_fraction: 0.1, start_factor: 0.1 }

/** W = int(warmup_fraction · T), Python's truncation of the float product. */
export function warmupSteps(totalSteps: number, warmupFraction: number): number {
  return Math.trunc(warmupFraction * totalSteps)
}

/** The lr used by optimizer step `step` (0-indexed) of a run of `totalSteps` steps. */
export function lrAt(step: number, totalSteps: number, baseLr: number, cfg: ScheduleConfig = REFERENCE_SCHEDULE): number {
  const W = warmupSteps(totalSteps, cfg.warmup_fraction)
  const f = cfg.start_factor
  if (W <= 1) {
    if (step === 0) return baseLr * f
    return baseLr * f * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / (totalSteps - W)))
  }
  if (step <= W - 2) return baseLr * (f + ((1 - f) * step) / W)
  const span = totalSteps - W
  if (span <= 0) return 0
  return baseLr * 0.5 * (1 + Math.cos((Math.PI * (step - W + 1)) / span))
}
