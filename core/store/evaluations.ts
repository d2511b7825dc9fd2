/** Evaluations: a run's checkpoint scored on a dataset (tokens, loss, gate statistics, FLOPs). */
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import type { Evaluation, Json, NewEvaluation } from './types.js'

interface EvaluationRow {
  id: number
  run_id: number
  checkpoint_id: number | null
  dataset_id: number | null
  dataset: string
  split: string
  step: number | null
  tokens: number
  loss: number | null
  gate_stats: string | null
  flops_per_token: number | null
  flops: number | null
  created_at: string
}

const toEvaluation = (r: EvaluationRow): Evaluation => ({
  id: r.id,
  runId: r.run_id,
  checkpointId: r.checkpoint_id,
  datasetId: r.dataset_id,
  dataset: r.dataset,
  split: r.split,
  step: r.step,
  tokens: r.tokens,
  loss: r.loss,
  gateStats: parseJson<Json | null>(r.gate_stats, null),
  flopsPerToken: r.flops_per_token,
  flops: r.flops,
  createdAt: r.created_at,
})

export class EvaluationsRepository {
  private readonly s: Record<'insert' | 'byRun' | 'byId', Statement>

  constructor(db: SqliteDatabase) {
    this.s = {
      insert: db.prepare(`INSERT INTO evaluations (run_id, checkpoint_id, dataset_id, dataset, split, step, tokens, loss, gate_stats, flops_per_token, flops)
        VALUES (@run_id, @checkpoint_id, @dataset_id, @dataset, @split, @step, @tokens, @loss, @gate_stats, @flops_per_token, @flops) RETURNING *`),
      byRun: db.prepare('SELECT * FROM evaluations WHERE run_id = ? ORDER BY id'),
      byId: db.prepare('SELECT * FROM evaluations WHERE id = ?'),
    }
  }

  add(e: NewEvaluation): Evaluation {
    return toEvaluation(
      this.s.insert.get({
        run_id: e.runId,
        checkpoint_id: e.checkpointId ?? null,
        dataset_id: e.datasetId ?? null,
        dataset: e.dataset,
        split: e.split ?? 'val',
        step: e.step ?? null,
        tokens: e.tokens,
        loss: e.loss === undefined || e.loss === null || Number.isNaN(e.loss) ? null : e.loss,
        gate_stats: e.gateStats === undefined || e.gateStats === null ? null : JSON.stringify(e.gateStats),
        flops_per_token: e.flopsPerToken ?? null,
        flops: e.flops ?? null,
      }) as EvaluationRow,
    )
  }

  get(id: number): Evaluation | null {
    const r = this.s.byId.get(id) as EvaluationRow | undefined
    return r ? toEvaluation(r) : null
  }

  list(runId: number): Evaluation[] {
    return (this.s.byRun.all(runId) as EvaluationRow[]).map(toEvaluation)
  }
}
