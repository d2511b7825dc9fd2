/** Plain-text rendering of comparisons, sweep plans and estimates for the terminal (pure; no I/O). */
import { fmtSecondsPerToken } from '../core/report/charts.js'
import { fmtDuration, fmtLoss, fmtSci } from '../core/report/format.js'
import type { Comparison, Summary } from '../core/analysis/index.js'
import type { ExpandedSweep } from '../core/sweeps/grid.js'
import type { SweepEstimate } from '../core/sweeps/estimate.js'
import { verdictLines } from '../core/report/verdict.js'

const fmtSigned = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`)
const fmtPct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x >= 0 ? '+' : '−'}${(Math.abs(x) * 100).toFixed(1)}%`)

/** A left/right aligned text table (numbers right-aligned). */
export function table(header: string[], rows: string[][], indent = '  '): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^([−+\-]?\d|—$)/.test(r[i] ?? '')))
  const line = (r: string[]) =>
    indent +
    r
      .map((c, i) => (numeric[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

function pm(s: Summary | null, f: (x: number) => string, scale = 1): string {
  if (!s) return '—'
  const mean = f(s.mean * scale)
  if (!s.ci) return `${mean} (n=1)`
  const half = ((s.ci[1] - s.ci[0]) / 2) * scale
  return `${mean} ± ${f(half).replace(/^[+−]/, '')}`
}

export function formatComparison(c: Comparison & { experiment?: string | null; runs?: number }): string {
  const out: string[] = []
  const fmtX = (x: number | null | undefined) => (c.flopsKind === 'measured' ? (typeof x === 'number' && Number.isFinite(x) ? fmtSecondsPerToken(x) : 'n/a') : fmtSci(x))
  const level = `${Math.round(c.level * 100)}%`
  const head = c.experiment ? `experiment ${c.experiment}: ` : ''
  const measured = c.flopsKind === 'measured'
  const nRuns = c.runs ?? c.gated.length + c.summary.denseRuns + c.excluded.length
  if (measured) out.push(`${head}${nRuns} runs; x = measured evaluation time per token (hard skipping for key-gated runs) on ${c.measuredOn ?? 'an unknown machine'}`)
  else out.push(`${head}${nRuns} runs; ${c.flopsKind} FLOPs (${c.flopsKind === 'inference' ? 'per sequence' : 'whole run'}), ${c.estimator} estimator`)
  if (c.reference)
    out.push(`evaluation: dataset ${c.reference.dataset}, tokenizer ${c.reference.tokenizer}, ${c.reference.valTokens.toLocaleString('en-US')} validation tokens, context ${c.reference.seqLen}`)
  out.push('')

  out.push(`dense frontier (${c.frontier.points.length} point${c.frontier.points.length === 1 ? '' : 's'}, seed-group means):`)
  if (c.frontier.points.length)
    out.push(table([measured ? 'time/token' : 'FLOPs', 'val CE', 'group', 'runs'], c.frontier.points.map((p) => [fmtX(p.flops), fmtLoss(p.loss), p.label ?? '', p.ids.join(', ')])))
  else out.push('  (none: no comparable dense runs)')
  if (c.frontier.dominated.length) {
    out.push('  dominated dense points (not on the frontier):')
    for (const d of c.frontier.dominated) out.push(`    ${fmtX(d.flops)}  ${fmtLoss(d.loss)}  ${d.ids.join(', ')}  (dominated by ${d.dominatedBy.join(', ')})`)
  }
  out.push('')

  const training = c.flopsKind === 'training'
  out.push('gated runs: gap = val CE − dense frontier CE at equal FLOPs (> 0: worse than dense);')
  out.push('            saving = 1 − FLOPs / dense FLOPs at equal CE (> 0: cheaper than dense); only where the frontier falls')
  out.push('            beyond seed noise. Beyond the frontier: not extrapolated.')
  if (training) out.push(`            FLOPs: ${c.flopsNote}.`)
  if (c.gated.length) {
    out.push(
      table(
        ['run', 'seed', training ? 'FLOPs (hypothetical)' : measured ? 'time/token' : 'FLOPs', ...(training ? ['executed FLOPs'] : []), 'val CE', 'zeros', 'frontier CE', 'gap', measured ? 'dense time' : 'dense FLOPs', 'saving', 'note'],
        c.gated.map((g) => {
          const notes: string[] = []
          if (g.atEqualFlops.extrapolated) notes.push(`FLOPs ${g.atEqualFlops.extrapolated} the frontier's range`)
          if (g.atEqualLoss.extrapolated) notes.push(`CE ${g.atEqualLoss.extrapolated === 'below' ? 'above' : 'below'} the frontier's range`)
          return [
            g.id,
            String(g.seed),
            fmtX(g.flops),
            ...(training ? [fmtSci(g.executedTrainingFlops)] : []),
            fmtLoss(g.loss),
            g.zeroFraction === null ? '—' : `${(g.zeroFraction * 100).toFixed(1)}%`,
            fmtLoss(g.atEqualFlops.frontierLoss),
            fmtSigned(g.atEqualFlops.gap),
            fmtX(g.atEqualLoss.denseFlops),
            fmtPct(g.atEqualLoss.flopsSaving),
            notes.join('; '),
          ]
        }),
      ),
    )
  } else out.push('  (none)')
  out.push('')

  out.push(`seed groups (val CE: mean ± ${level} CI half-width over seeds, n = 1: no interval; gap and saving: mean over seeds, their intervals are in the verdict):`)
  if (c.groups.length)
    out.push(
      table(
        ['group', 'n', 'seeds', 'val CE', 'FLOPs', 'gap', 'saving', 'frontier'],
        c.groups.map((g) => [
          g.label,
          String(g.n),
          g.seeds.join(','),
          pm(g.loss, (x) => x.toFixed(4)),
          fmtX(g.flops.mean),
          g.gap ? fmtSigned(g.gap.mean) : '—',
          g.flopsSaving ? fmtPct(g.flopsSaving.mean) : '—',
          g.kind === 'dense' ? (g.onFrontier ? 'on' : 'dominated') : '',
        ]),
      ),
    )
  else out.push('  (none)')
  out.push('')

  const s = c.summary
  out.push(
    `summary: ${s.denseRuns} dense, ${s.gatedRuns} gated; ${s.withinRange} gated within the frontier's FLOPs range ` +
      `(${s.extrapolatedBelow} below, ${s.extrapolatedAbove} above); ${s.beatFrontier} beat the frontier` +
      (s.gap ? `; mean gap over ${s.gap.n} configuration${s.gap.n === 1 ? '' : 's'} ${fmtSigned(s.gap.mean)} nats (descriptive: no interval across different configurations)` : ''),
  )
  if (c.excluded.length) {
    out.push('')
    out.push(`excluded (${c.excluded.length}):`)
    for (const e of c.excluded) out.push(`  ${e.id}: ${e.reason}`)
  }
  out.push('')
  out.push(...verdictLines(c))
  return out.join('\n')
}

/** The expanded grid (valid and invalid points) with the estimate. */
export function formatSweepPlan(sweep: ExpandedSweep, est: SweepEstimate | null): string {
  const out: string[] = []
  out.push(`sweep ${sweep.name}: ${sweep.points.length} runs${sweep.invalid.length ? `, ${sweep.invalid.length} invalid points` : ''}`)
  if (sweep.description) out.push(sweep.description)
  out.push('')
  const byIndex = new Map(est?.points.map((p) => [p.index, p]) ?? [])
  out.push(
    table(
      ['#', 'run', 'L', 'kind', 'controller', 'params', 'steps', 'tokens', 'train FLOPs paper', 'corrected', 'at target (corr.)', 'time'],
      sweep.points.map((p) => {
        const e = byIndex.get(p.index)
        const c = p.config
        const ctl = c.controller as { name: string; mean_target_end?: number }
        return [
          String(p.index),
          p.name,
          String(c.model.n_layers),
          c.model.zero_init_masks ? 'dense' : `gated/${c.model.gated_attention}`,
          ctl.name + (ctl.mean_target_end !== undefined && ctl.name !== 'dummy' ? ` E=${ctl.mean_target_end}` : ''),
          e ? e.params.toLocaleString('en-US') : '',
          String(c.training.train_steps),
          e ? e.tokens.toLocaleString('en-US') : '',
          fmtSci(e?.flops.paper.training),
          fmtSci(e?.flops.corrected.training),
          fmtSci(e?.flops.corrected.trainingAtTarget),
          e?.seconds ? fmtDuration(e.seconds.total) + (e.rate === 'extrapolated' ? '*' : '') : '—',
        ]
      }),
    ),
  )
  if (sweep.invalid.length) {
    out.push('')
    out.push('invalid points (not queued):')
    for (const p of sweep.invalid) out.push(`  #${p.index} ${p.name}: ${p.problems.join('; ')}`)
  }
  const warn = [...sweep.warnings, ...sweep.points.flatMap((p) => p.warnings.map((w) => `${p.name}: ${w}`))]
  if (warn.length) {
    out.push('')
    for (const w of warn) out.push(`warning: ${w}`)
  }
  if (est) {
    out.push('')
    out.push(formatEstimate(est))
  }
  return out.join('\n')
}

function formatEstimate(est: SweepEstimate): string {
  const out: string[] = []
  const t = est.totals
  out.push(`estimate for ${t.runs} runs, ${t.tokens.toLocaleString('en-US')} training tokens:`)
  out.push(`  training FLOPs, paper estimator (forward only):   ${fmtSci(t.flops.paper.training)} with every gate open, ${fmtSci(t.flops.paper.trainingAtTarget)} at the targets`)
  out.push(`  training FLOPs, corrected estimator (3 × forward): ${fmtSci(t.flops.corrected.training)} with every gate open, ${fmtSci(t.flops.corrected.trainingAtTarget)} at the targets`)
  if (est.calibrations.length) {
    out.push(`  wall time on this machine, one run at a time: ${fmtDuration(t.seconds)}`)
    for (const c of est.calibrations)
      out.push(
        `    calibration ${c.shape.engine}/${c.backendUsed} L=${c.shape.n_layers} d=${c.shape.dim} T=${c.shape.max_seq_len} B=${c.shape.batch_size}${c.shape.gated ? ' gated' : ''}: ` +
          `${(c.trainFlopsPerSecond / 1e9).toFixed(2)} GFLOP/s training (${c.microStepSeconds.toFixed(3)} s per micro-batch), ` +
          `${(c.evalFlopsPerSecond / 1e9).toFixed(2)} GFLOP/s evaluation, setup ${c.setupSeconds.toFixed(1)} s (measured ${c.measuredAt})`,
      )
  } else out.push('  wall time: unknown (not calibrated)')
  for (const n of est.notes) out.push(`  note: ${n}`)
  if (est.points.some((p) => p.rate === 'extrapolated')) out.push('  * rate taken from the nearest calibrated size (outside the calibrated range)')
  return out.join('\n')
}
