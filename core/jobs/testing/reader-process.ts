/**
 * Test helper process: reads the database while workers write it (a separate connection in a separate process,
 * as the server or a second CLI would) and records, per snapshot, how many metric keys each (run, step) of
 * training metrics has. A partial step would show up as a smaller count.
 *
 *   node --import tsx reader-process.ts DB_PATH DURATION_MS
 * prints one JSON line: { snapshots, counts: { "<count>": occurrences }, valCounts, maxRows }
 */
import Database from 'better-sqlite3'

const [path, durationText] = process.argv.slice(2)
const until = Date.now() + Number(durationText ?? 3000)
const counts: Record<string, number> = {}
const valCounts: Record<string, number> = {}
let snapshots = 0
let maxRows = 0
let db: Database.Database | null = null
while (Date.now() < until) {
  try {
    db ??= new Database(path!, { readonly: true, fileMustExist: true, timeout: 5000 })
    // one read transaction = one consistent snapshot
    const snap = db.transaction(() => ({
      train: db!
        .prepare(`SELECT m.run_id, m.step, count(*) AS c FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE k.key LIKE 'train/%' GROUP BY m.run_id, m.step`)
        .all() as { c: number }[],
      val: db!
        .prepare(`SELECT m.run_id, m.step, count(*) AS c FROM metrics m JOIN metric_keys k ON k.id = m.key_id WHERE k.key LIKE 'val/%' GROUP BY m.run_id, m.step`)
        .all() as { c: number }[],
      rows: db!.prepare('SELECT count(*) FROM metrics').pluck().get() as number,
    }))()
    for (const r of snap.train) counts[r.c] = (counts[r.c] ?? 0) + 1
    for (const r of snap.val) valCounts[r.c] = (valCounts[r.c] ?? 0) + 1
    maxRows = Math.max(maxRows, snap.rows)
    snapshots++
  } catch (e) {
    // the file may not have the tables yet
    if (!/no such table|unable to open/.test((e as Error).message)) throw e
  }
  await new Promise((r) => setTimeout(r, 5))
}
db?.close()
console.log(JSON.stringify({ snapshots, counts, valCounts, maxRows }))
