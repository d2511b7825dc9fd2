/**
 * skipbench command line: a thin layer over core/. Each command parses and validates its arguments (zod), calls
 * core, and prints. User errors (bad config, unreadable checkpoint, bad shard, ...) print one clear message and exit
 * non-zero without a stack trace; SKIPBENCH_DEBUG=1 shows stacks.
 */
import { isUserError } from '../core/user-errors.js'
import { packageVersion } from '../core/paths.js'
import { UsageError } from './args.js'

interface Command {
  run: (argv: string[]) => Promise<number>
  help: string
}

/**
 * Commands load on use (each its own chunk in the bundle), so `skipbench presets` does not load the engines, the
 * database or the server.
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  train: { load: async () => { const m = await import('./commands/train.js'); return { run: m.trainCommand, help: m.TRAIN_HELP } }, summary: 'train a model from a config file or preset (or resume a run)' },
  eval: { load: async () => { const m = await import('./commands/eval.js'); return { run: m.evalCommand, help: m.EVAL_HELP } }, summary: 'evaluate a checkpoint folder on a .bin token shard' },
  export: { load: async () => { const m = await import('./commands/export.js'); return { run: m.exportCommand, help: m.EXPORT_HELP } }, summary: 'export a checkpoint as ONNX (input_ids → logits) or safetensors' },
  data: { load: async () => { const m = await import('./commands/data.js'); return { run: m.dataCommand, help: m.DATA_HELP } }, summary: 'prepare, list and inspect datasets (token shards)' },
  runs: { load: async () => { const m = await import('./commands/runs.js'); return { run: m.runsCommand, help: m.RUNS_HELP } }, summary: 'list, show, ingest and cancel stored runs (local or on a cluster)' },
  queue: { load: async () => { const m = await import('./commands/runs.js'); return { run: m.queueCommand, help: m.QUEUE_HELP } }, summary: 'queue a training run (run it with skipbench worker)' },
  worker: { load: async () => { const m = await import('./commands/runs.js'); return { run: m.workerCommand, help: m.WORKER_HELP } }, summary: 'drain the job queue headless (each job in its own process)' },
  presets: { load: async () => { const m = await import('./commands/presets.js'); return { run: m.presetsCommand, help: m.PRESETS_HELP } }, summary: 'list the built-in presets' },
  flops: { load: async () => { const m = await import('./commands/flops.js'); return { run: m.flopsCommand, help: m.FLOPS_HELP } }, summary: 'parameter count and FLOPs of a config (paper and corrected estimators)' },
  sweep: { load: async () => { const m = await import('./commands/sweep.js'); return { run: m.sweepCommand, help: m.SWEEP_HELP } }, summary: 'expand, estimate, queue and run a grid of runs (e.g. the paper grid), then compare' },
  compare: { load: async () => { const m = await import('./commands/compare.js'); return { run: m.compareCommand, help: m.COMPARE_HELP } }, summary: "compare an experiment's gated runs with its dense frontier at equal FLOPs" },
  report: { load: async () => { const m = await import('./commands/report.js'); return { run: m.reportCommand, help: m.REPORT_HELP } }, summary: 'write a comparison report (HTML, PDF, CSV, JSON, Markdown, LaTeX) of an experiment or runs' },
  demo: { load: async () => { const m = await import('./commands/demo.js'); return { run: m.demoCommand, help: m.DEMO_HELP } }, summary: 'train a reduced paper grid on the shipped corpus (~9 min; --quick ~10 s), compare, write HTML + PDF reports' },
  cluster: { load: async () => { const m = await import('./commands/cluster.js'); return { run: m.clusterCommand, help: m.CLUSTER_HELP } }, summary: 'Slurm cluster profiles (add, list, check, remove) and re-attaching to cluster jobs (watch)' },
  serve: { load: async () => { const m = await import('./commands/serve.js'); return { run: m.serveCommand, help: m.SERVE_HELP } }, summary: 'serve the workbench UI and its API (HTTP + WebSocket) for a browser' },
}

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length))
  return [
    'usage: skipbench <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'skipbench <command> --help for its options.',
  ].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const sub = cmd === 'help' ? rest[0] : undefined
    process.stdout.write((sub && COMMANDS[sub] ? (await COMMANDS[sub].load()).help : usage()) + '\n')
    return 0
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`skipbench ${packageVersion()}\n`)
    return 0
  }
  const entry = COMMANDS[cmd]
  if (!entry) throw new UsageError(`unknown command "${cmd}"\n${usage()}`)
  const c = await entry.load()
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(c.help + '\n')
    return 0
  }
  return c.run(rest)
}

function report(e: unknown): number {
  const err = e instanceof Error ? e : new Error(String(e))
  const debug = process.env.SKIPBENCH_DEBUG === '1'
  process.stderr.write(`skipbench: error: ${err.message}\n`)
  if (isUserError(err) && !debug) return err instanceof UsageError ? 2 : 1
  if (debug) process.stderr.write(`${err.stack ?? ''}\n`)
  else process.stderr.write('(this looks like a bug in skipbench; run with SKIPBENCH_DEBUG=1 for details)\n')
  return 1
}

export async function run(argv: string[]): Promise<void> {
  let code: number
  try {
    code = await main(argv)
  } catch (e) {
    code = report(e)
  }
  // stdout may be a pipe: exit once it has drained
  process.stdout.write('', () => process.exit(code))
}
