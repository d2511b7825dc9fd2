// One evaluation loop: the app's "evaluate run" (an eval job in a worker process, what the service's evaluateRun
// queues) and the CLI's `skipbench eval` measure a checkpoint the same way — same windows, same loss, same gate
// statistics, same FLOPs per token — because both go through core/trainer/evaluate.ts.
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { evalCommand } from '../cli/commands/eval.js'
import { parseRunConfig } from '../core/config/index.js'
import { writeShard } from '../core/data/shard.js'
import { makeSynthetic } from '../core/data/synthetic.js'
import { JobQueue } from '../core/jobs/queue.js'
import { openStore, type Store } from '../core/store/store.js'
import { tempDir, tinyRunConfig, type TempDir } from '../core/store/test-helpers.js'

let tmp: TempDir | null = null
let store: Store | null = null
let queue: JobQueue | null = null
afterEach(async () => {
  await queue?.shutdown('kill')
  store?.close()
  tmp?.cleanup()
  queue = null
  store = null
  tmp = null
})

describe('one evaluation loop', () => {
  it('the app path (eval job) and the CLI path (skipbench eval) give the same numbers on the same checkpoint and shard', async () => {
    tmp = tempDir('sb-eval-parity-')
    store = openStore(tmp.file('s.db'))
    const syn = makeSynthetic({ vocabSize: 32, seed: 5, trainTokens: 8_000, valTokens: 1_000 })
    const train = join(tmp.path, 'train.bin')
    const val = join(tmp.path, 'val.bin')
    writeShard(train, syn.train)
    writeShard(val, syn.val)
    const base = tinyRunConfig({ steps: 4 })
    const config = parseRunConfig({
      ...base,
      training: { ...base.training, val_tokens: 160 }, // 10 windows of max_seq_len 16
      data: { dataset: 'synthetic', train_shards: [train], val_shards: [val] },
      engine: { engine: 'ort', threads: 1 },
    })
    queue = new JobQueue({ store, runsDir: join(tmp.path, 'runs'), flushIntervalMs: 20 })
    const { job, run } = queue.addTrain(config)
    await queue.start()
    expect((await queue.waitFor(job.id, ['completed', 'failed'], 60_000)).error).toBeNull()

    // the app: "evaluate run" queues an eval job of the newest checkpoint, run in its own worker process
    const evalJob = queue.addEval(run.id)
    expect((await queue.waitFor(evalJob.id, ['completed', 'failed'], 60_000)).error).toBeNull()
    const [app] = store.evaluations.list(run.id)
    const checkpoint = store.checkpoints.get(app!.checkpointId!)!.path

    // the CLI: skipbench eval on the same checkpoint and validation shard, the same token budget and engine
    let out = ''
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true))
    try {
      expect(await evalCommand(['--checkpoint', checkpoint, '--data', val, '--max-tokens', '160', '--engine', 'ort', '--threads', '1', '--json'])).toBe(0)
    } finally {
      write.mockRestore()
    }
    const cli = JSON.parse(out) as { loss: number; tokens: number; gates_mean: number[]; zeros_mean: number[]; flops_per_token: number }

    expect(app!.tokens).toBe(160)
    expect(cli.tokens).toBe(app!.tokens)
    expect(cli.loss).toBe(app!.loss)
    const gates = app!.gateStats as { gates: { mean: number[] }; zeros: { mean: number[] } }
    expect(cli.gates_mean).toEqual(gates.gates.mean)
    expect(cli.zeros_mean).toEqual(gates.zeros.mean)
    expect(cli.flops_per_token).toBe(app!.flopsPerToken)
  }, 120_000)
})
