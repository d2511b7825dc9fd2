/**
 * Facts derived from a resolved run config, computed here once for every view (runs table, comparison, reports,
 * estimates, CLI): the run's kind, its target end E, tokens per optimizer step.
 */
import type { RunConfig } from './run.js'

export type RunKind = 'dense' | 'gated'

/** dense (zero-initialised masks, g ≡ 1) or gated (skip-middle) */
export const runKind = (c: Pick<RunConfig, 'model'>): RunKind => (c.model.zero_init_masks ? 'dense' : 'gated')

/** sequences per optimizer step */
export const sequencesPerStep = (c: Pick<RunConfig, 'training'>): number => c.training.batch_size * c.training.grad_acc_steps

/** tokens per optimizer step */
export const tokensPerStep = (c: Pick<RunConfig, 'training' | 'model'>): number => sequencesPerStep(c) * c.model.max_seq_len

/**
 * The target end E of a gated run: the gate-mean target of the middle layer. With "auto" targets it is
 * mean_target_end; with explicit targets (a list, or the reference's space-separated string) the last one. Null for
 * dense runs and for controllers without targets.
 */
export function targetEnd(c: Pick<RunConfig, 'model' | 'controller'>): number | null {
  if (c.model.zero_init_masks) return null
  const ctl = c.controller as { mean_targets?: unknown; mean_target_end?: unknown }
  if (ctl.mean_targets === undefined) return null
  if (ctl.mean_targets === 'auto') return typeof ctl.mean_target_end === 'number' ? ctl.mean_target_end : null
  const list = Array.isArray(ctl.mean_targets) ? ctl.mean_targets : typeof ctl.mean_targets === 'string' ? ctl.mean_targets.trim().split(/\s+/).map(Number) : []
  const last = list.at(-1)
  return typeof last === 'number' && Number.isFinite(last) ? last : null
}
