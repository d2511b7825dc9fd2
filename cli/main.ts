/**
 * skipbench command line: a thin layer over core/. Each command parses and validates its arguments (zod), calls
 * core, and prints. User errors (bad config, unreadable checkpoint, bad shard, ...) print one clear message and exit
 * non-zero without a stack trace; SKIPBENCH_DEBUG=1 shows stacks.
 */
import { USER_ERROR_NAMES } from '../core/user-errors.js'
import { readFileSync } from 'node:fs'
import { clusterCommand, CLUSTER_HELP } from './commands/cluster.js'
import { compareCommand, COMPARE_HELP } from './commands/compare.js'
import { dataCommand, DATA_HELP } from './commands/data.js'
import { demoCommand, DEMO_HELP } from './commands/demo.js'
import { queueCommand, QUEUE_HELP, runsCommand, RUNS_HELP, workerCommand, WORKER_HELP } from './commands/runs.js'
import { evalCommand, EVAL_HELP } from './commands/eval.js'
import { exportCommand, EXPORT_HELP } from './commands/export.js'
import { flopsCommand, FLOPS_HELP } from './commands/flops.js'
import { presetsCommand, PRESETS_HELP } from './commands/presets.js'
import { reportCommand, REPORT_HELP } from './commands/report.js'
import { serveCommand, SERVE_HELP } from './commands/serve.js'
import { sweepCommand, SWEEP_HELP } from './commands/sweep.js'
import { trainCommand, TRAIN_HELP } from './commands/train.js'
import { UsageError } from './args.js'

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string; summary: string }> = {
  train: { run: trainCommand, help: TRAIN_HELP, summary: 'train a model from a config file or preset (or resume a run)' },
  eval: { run: evalCommand, help: EVAL_HELP, summary: 'evaluate a checkpoint folder on a .bin token shard' },
  export: { run: exportCommand, help: EXPORT_HELP, summary: 'export a checkpoint as ONNX (input_ids → logits) or safetensors' },
  data: { run: dataCommand, help: DATA_HELP, summary: 'prepare, list and inspect datasets (token shards)' },
  runs: { run: runsCommand, help: RUNS_HELP, summary: 'list, show, ingest and cancel stored runs (local or on a cluster)' },
  queue: { run: queueCommand, help: QUEUE_HELP, summary: 'queue a training run (run it with skipbench worker)' },
  worker: { run: workerCommand, help: WORKER_HELP, summary: 'drain the job queue headless (each job in its own process)' },
  presets: { run: presetsCommand, help: PRESETS_HELP, summary: 'list the built-in presets' },
  flops: { run: flopsCommand, help: FLOPS_HELP, summary: 'parameter count and FLOPs of a config (paper and corrected estimators)' },
  sweep: { run: sweepCommand, help: SWEEP_HELP, summary: 'expand, estimate, queue and run a grid of runs (e.g. the paper grid), then compare' },
  compare: { run: compareCommand, help: COMPARE_HELP, summary: "compare an experiment's gated runs with its dense frontier at equal FLOPs" },
  report: { run: reportCommand, help: REPORT_HELP, summary: 'write a comparison report (HTML, PDF, CSV, JSON, Markdown, LaTeX) of an experiment or runs' },
  demo: { run: demoCommand, help: DEMO_HELP, summary: 'train a reduced paper grid on the shipped corpus (~10 min; --quick ~1 min), compare, write HTML + PDF reports' },
  cluster: { run: clusterCommand, help: CLUSTER_HELP, summary: 'Slurm cluster profiles (add, list, check, remove) and re-attaching to cluster jobs (watch)' },
  serve: { run: serveCommand, help: SERVE_HELP, summary: 'serve the workbench UI and its API (HTTP + WebSocket) for a browser' },
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


function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const sub = cmd === 'help' ? rest[0] : undefined
    process.stdout.write((sub && COMMANDS[sub] ? COMMANDS[sub].help : usage()) + '\n')
    return 0
  }
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`skipbench ${version()}\n`)
    return 0
  }
  const c = COMMANDS[cmd]
  if (!c) throw new UsageError(`unknown command "${cmd}"\n${usage()}`)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(c.help + '\n')
    return 0
  }
  return c.run(rest)
}

function report(e: unknown): number {
  const err = e instanceof Error ? e : new Error(String(e))
  const debug = process.env.SKIPBENCH_DEBUG === '1'
  if ((err.name === 'UsageError' || USER_ERROR_NAMES.has(err.name)) && !debug) {
    process.stderr.write(`skipbench: error: ${err.message}\n`)
    return err.name === 'UsageError' ? 2 : 1
  }
  process.stderr.write(`skipbench: error: ${err.message}\n`)
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
