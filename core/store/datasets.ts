/** Datasets: token shard sets runs train and evaluate on. */
import type { SqliteDatabase } from './open.js'
import { parseJson, type Statement } from './sql.js'
import type { Dataset, JsonObject, NewDataset } from './types.js'

interface DatasetRow {
  id: number
  name: string
  path: string | null
  tokenizer: string | null
  vocab_size: number | null
  train_tokens: number | null
  val_tokens: number | null
  fingerprint: string | null
  meta: string
  created_at: string
}

const toDataset = (r: DatasetRow): Dataset => ({
  id: r.id,
  name: r.name,
  path: r.path,
  tokenizer: r.tokenizer,
  vocabSize: r.vocab_size,
  trainTokens: r.train_tokens,
  valTokens: r.val_tokens,
  fingerprint: r.fingerprint,
  meta: parseJson<JsonObject>(r.meta, {}),
  createdAt: r.created_at,
})

export class DatasetsRepository {
  private readonly s: Record<'upsert' | 'byId' | 'byName' | 'list', Statement>

  constructor(db: SqliteDatabase) {
    this.s = {
      // known fields fill in, never erase: a later, less informed writer (an ingest with only a name) keeps what is there
      upsert: db.prepare(`INSERT INTO datasets (name, path, tokenizer, vocab_size, train_tokens, val_tokens, fingerprint, meta)
        VALUES (@name, @path, @tokenizer, @vocab_size, @train_tokens, @val_tokens, @fingerprint, @meta)
        ON CONFLICT (name) DO UPDATE SET path = coalesce(excluded.path, path), tokenizer = coalesce(excluded.tokenizer, tokenizer),
          vocab_size = coalesce(excluded.vocab_size, vocab_size), train_tokens = coalesce(excluded.train_tokens, train_tokens),
          val_tokens = coalesce(excluded.val_tokens, val_tokens), fingerprint = coalesce(excluded.fingerprint, fingerprint),
          meta = CASE WHEN excluded.meta = '{}' THEN meta ELSE excluded.meta END
        RETURNING *`),
      byId: db.prepare('SELECT * FROM datasets WHERE id = ?'),
      byName: db.prepare('SELECT * FROM datasets WHERE name = ?'),
      list: db.prepare('SELECT * FROM datasets ORDER BY name'),
    }
  }

  upsert(d: NewDataset): Dataset {
    return toDataset(
      this.s.upsert.get({
        name: d.name,
        path: d.path ?? null,
        tokenizer: d.tokenizer ?? null,
        vocab_size: d.vocabSize ?? null,
        train_tokens: d.trainTokens ?? null,
        val_tokens: d.valTokens ?? null,
        fingerprint: d.fingerprint ?? null,
        meta: JSON.stringify(d.meta ?? {}),
      }) as DatasetRow,
    )
  }

  get(id: number): Dataset | null {
    const r = this.s.byId.get(id) as DatasetRow | undefined
    return r ? toDataset(r) : null
  }

  byName(name: string): Dataset | null {
    const r = this.s.byName.get(name) as DatasetRow | undefined
    return r ? toDataset(r) : null
  }

  list(): Dataset[] {
    return (this.s.list.all() as DatasetRow[]).map(toDataset)
  }
}
