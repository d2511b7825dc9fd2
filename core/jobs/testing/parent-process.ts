/**
 * Test helper process: a job runner parent (the DB's writer) that the fault tests kill with SIGKILL.
 *
 *   node --import tsx parent-process.ts DB_PATH RUNS_DIR CONFIG_JSON
 * Adds one training job, starts the queue and prints "JOB <id>", "WORKER <pid>" (once the worker started) and
 * "STEP <n>" after each committed step; "DONE <status>" at the end.
 */
import { openStore } from '../../store/store.js'
import { JobQueue } from '../queue.js'
import { parseRunConfig } from '../../config/index.js'

const [dbPath, runsDir, configJson] = process.argv.slice(2)
const store = openStore(dbPath!)
const queue = new JobQueue({ store, runsDir: runsDir!, stopGraceMs: 20_000, flushIntervalMs: 20 })
const { job } = queue.addTrain(parseRunConfig(JSON.parse(configJson!)))
console.log(`JOB ${job.id}`)
queue.on('job', (e) => {
  if (e.job.id === job.id && e.job.status === 'running' && e.job.pid) console.log(`WORKER ${e.job.pid}`)
})
queue.on('progress', (e) => e.event === 'step' && console.log(`STEP ${e.step}`))
await queue.start()
const done = await queue.waitFor(job.id, ['completed', 'failed', 'cancelled'])
console.log(`DONE ${done.status}`)
await queue.shutdown()
store.close()
