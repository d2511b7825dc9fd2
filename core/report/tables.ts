/**
 * CSV and JSON of the report's table and series (pure). Numbers are written with full precision (String(x)
 * round-trips a double), so a parsed CSV equals what the database holds.
 */
import { csvLine } from './format.js'
import { REPORT_ESTIMATORS, shownFlopsKinds, type ReportModel } from './model.js'
import { verdictView } from './verdict.js'

/** Columns of runs.csv, in order (the differing config fields come after `seed`, named by their dotted path). */
export function runsCsvHeader(m: ReportModel): string[] {
  return [
    'id',
    'run_id',
    'uid',
    'name',
    'kind',
    'status',
    'seed',
    ...m.differing.map((f) => f.path),
    'val_loss',
    'val_tokens',
    'val_step',
    'validation_source',
    'group',
    'group_n',
    'group_loss_mean',
    'group_loss_ci_low',
    'group_loss_ci_high',
    'inference_flops_paper',
    'training_flops_paper',
    'inference_flops_corrected',
    'training_flops_corrected',
    'executed_training_flops_paper',
    'executed_training_flops_corrected',
    'gap_paper',
    'gap_corrected',
    'sparsity',
    'target_end',
    'train_tokens',
    'steps',
    'wall_seconds',
    'engine',
    'backend',
    'dataset',
    'tokenizer',
    'excluded',
  ]
}

/** The run table as CSV (one row per run; empty cells for missing values). */
export function runsCsv(m: ReportModel): string {
  const lines = [csvLine(runsCsvHeader(m))]
  for (const r of m.runs)
    lines.push(
      csvLine([
        r.id,
        r.runId,
        r.uid,
        r.name,
        r.kind,
        r.status,
        r.seed,
        ...m.differing.map((f) => r.fields[f.path] ?? null),
        r.valLoss,
        r.valTokens,
        r.valStep,
        r.validationSource,
        r.group?.label ?? null,
        r.group?.n ?? null,
        r.group?.loss.mean ?? null,
        r.group?.loss.ci?.[0] ?? null,
        r.group?.loss.ci?.[1] ?? null,
        r.flops?.paper.inference ?? null,
        r.flops?.paper.training ?? null,
        r.flops?.corrected.inference ?? null,
        r.flops?.corrected.training ?? null,
        r.flops?.paper.executedTraining ?? null,
        r.flops?.corrected.executedTraining ?? null,
        r.gap?.paper ?? null,
        r.gap?.corrected ?? null,
        r.sparsity,
        r.targetEnd,
        r.trainTokens,
        r.steps,
        r.wallSeconds,
        r.engine,
        r.backend,
        r.dataset,
        r.tokenizer,
        r.excluded,
      ]),
    )
  return lines.join('\n') + '\n'
}

const SERIES_CSV_HEADER = ['run_id', 'name', 'key', 'step', 'value'] as const

/** Every series of the report in long form: the loss curves (val/loss, train/loss) and the gate heatmaps' values. */
export function seriesCsv(m: ReportModel): string {
  const lines = [csvLine([...SERIES_CSV_HEADER])]
  const nameOf = new Map(m.runs.map((r) => [r.runId, r.name]))
  for (const s of [...m.curves.val, ...m.curves.train])
    for (let i = 0; i < s.steps.length; i++) lines.push(csvLine([s.runId, nameOf.get(s.runId) ?? s.label, s.key, s.steps[i], s.values[i]]))
  for (const g of m.gates)
    g.values.forEach((row, layer) => {
      const key = `${g.key}/layer_${String(layer).padStart(2, '0')}`
      for (let i = 0; i < g.steps.length; i++) lines.push(csvLine([g.runId, nameOf.get(g.runId) ?? g.label, key, g.steps[i], row[i]]))
    })
  return lines.join('\n') + '\n'
}

/**
 * The verdict of every estimator × FLOPs kind as CSV (verdict.csv): one row per item, the same text the other
 * formats show (core/report/verdict.ts). Columns: estimator, flops, item, name, value.
 *   item = conclusive | direction | headline | frontier | reason | next_step | fairness | point | method | note
 */
export function verdictCsv(m: ReportModel): string {
  const lines = [csvLine(['estimator', 'flops', 'item', 'name', 'value'])]
  for (const est of REPORT_ESTIMATORS)
    for (const kind of shownFlopsKinds(m)) {
      const v = verdictView(m.comparisons[est][kind])
      const row = (item: string, name: string, value: string) => lines.push(csvLine([est, kind, item, name, value]))
      row('conclusive', '', String(v.conclusive))
      row('direction', '', v.direction ?? '')
      row('headline', '', v.headline)
      row('frontier', '', v.frontier)
      for (const r of v.reasons) row('reason', '', r)
      for (const s of v.nextSteps) row('next_step', '', s)
      for (const f of v.fairness) row('fairness', f.name, `${f.status}: ${f.detail}`)
      for (const p of v.points) row('point', p.label, `n=${p.n}; gap ${p.gap}; direction ${p.direction ?? '—'}; saving ${p.saving}`)
      if (v.flopsNote) row('note', 'training FLOPs', v.flopsNote)
      row('method', '', v.method)
    }
  return lines.join('\n') + '\n'
}

/** The whole model as JSON (the table is `runs`, the series `curves` and `gates`; NaN/±Infinity become null). */
export function reportJson(m: ReportModel): string {
  return JSON.stringify(m, null, 1) + '\n'
}

