/**
 * How a job's worker process is started: one small interface (WorkerLauncher) and its one implementation,
 * `forkLauncher` — `child_process.fork` with an IPC channel. The CLI and the server fork Node; the Electron app forks
 * its own binary as plain Node (ELECTRON_RUN_AS_NODE=1, main/index.ts). Tests may pass another launcher.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ToWorker } from './protocol.js'

export interface WorkerHandle {
  readonly pid: number | undefined
  /** send a message; false if the process is gone */
  send(msg: ToWorker): boolean
  onMessage(cb: (msg: unknown) => void): void
  /** exactly once, when the process has exited */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void
  /** lines the process printed (stdout: info, stderr: warn) */
  onOutput(cb: (stream: 'stdout' | 'stderr', line: string) => void): void
  kill(signal?: NodeJS.Signals): void
}

export interface LaunchOptions {
  /** environment additions */
  env?: Record<string, string>
}

export interface WorkerLauncher {
  launch(opts?: LaunchOptions): WorkerHandle
}

/**
 * The worker entry beside this code: worker-entry.ts when running from sources (tsx); in the CLI bundle (out/cli,
 * scripts/build-cli.mjs) this code sits in a chunk beside the bundled worker-entry.js. An absolute path either way,
 * so workers start from any working directory.
 */
function defaultWorkerEntry(): string {
  const self = fileURLToPath(import.meta.url)
  if (/process\.ts$/.test(self)) return self.replace(/process\.ts$/, 'worker-entry.ts')
  return fileURLToPath(new URL('./worker-entry.js', import.meta.url))
}

/**
 * Node flags that load tsx for a .ts worker entry. `--import tsx` would be resolved from the current directory (so
 * jobs failed whenever the CLI, server or app was started outside the repository); this resolves tsx from this
 * package's own node_modules and passes its absolute file URL, so workers start from any working directory.
 */
function tsxExecArgv(): string[] {
  const loader = createRequire(import.meta.url).resolve('tsx')
  return ['--import', pathToFileURL(loader).href]
}

export interface ForkLauncherOptions {
  /** the worker script (default: defaultWorkerEntry()) */
  entry?: string
  /** node flags; default tsxExecArgv() for a .ts entry, none otherwise */
  execArgv?: string[]
}

function lineSplitter(cb: (line: string) => void): (chunk: Buffer) => void {
  let rest = ''
  return (chunk) => {
    const parts = (rest + chunk.toString('utf8')).split('\n')
    rest = parts.pop()!
    if (rest.length > 64 * 1024) {
      parts.push(rest)
      rest = ''
    }
    for (const p of parts) if (p.trim()) cb(p)
  }
}

/** child_process.fork with an IPC channel using structured-clone serialization. */
export function forkLauncher(opts: ForkLauncherOptions = {}): WorkerLauncher {
  const entry = opts.entry ?? defaultWorkerEntry()
  const execArgv = opts.execArgv ?? (entry.endsWith('.ts') ? tsxExecArgv() : [])
  return {
    launch(lo: LaunchOptions = {}): WorkerHandle {
      const child: ChildProcess = fork(entry, [], {
        execArgv,
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...(lo.env ?? {}) },
      })
      const outputCbs: ((s: 'stdout' | 'stderr', l: string) => void)[] = []
      child.stdout?.on('data', lineSplitter((l) => outputCbs.forEach((cb) => cb('stdout', l))))
      child.stderr?.on('data', lineSplitter((l) => outputCbs.forEach((cb) => cb('stderr', l))))
      let exited = false
      const exitCbs: ((c: number | null, s: NodeJS.Signals | null) => void)[] = []
      // 'exit' can come before the stdio streams end; 'close' comes after both, so use it (it always follows exit)
      child.on('close', (code, signal) => {
        if (exited) return
        exited = true
        for (const cb of exitCbs) cb(code, signal)
      })
      child.on('error', () => {
        /* spawn failures surface as 'close' with a code */
      })
      return {
        get pid() {
          return child.pid
        },
        send(msg) {
          if (!child.connected) return false
          try {
            child.send(msg)
            return true
          } catch {
            return false
          }
        },
        onMessage(cb) {
          child.on('message', cb)
        },
        onExit(cb) {
          exitCbs.push(cb)
        },
        onOutput(cb) {
          outputCbs.push(cb)
        },
        kill(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
        },
      }
    },
  }
}
