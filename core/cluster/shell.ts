/**
 * Running commands on a cluster's login node: on this machine (`bash -c`) or through the system `ssh` client (so
 * ~/.ssh/config, agents, ProxyJump and ControlMaster work). Every command has a time-out: a Slurm client with a
 * wrong SLURM_CONF retries for 60 s, and a dead connection must not hang skipbench. ssh's own failures (exit 255:
 * connection refused, reset, timed out) are retried with backoff for commands marked idempotent.
 */
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClusterError, type ClusterProfile } from './profile.js'

export interface ShellResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
  /** ssh could not reach the host (exit 255) */
  connectionError: boolean
}

export interface RunOptions {
  /** default 60 s */
  timeoutMs?: number
  /** bytes written to the command's stdin */
  input?: string | Buffer
  /** retries after a connection error or time-out (safe only for commands that can run twice); default 0 */
  retries?: number
}

/** Quote one word for a POSIX shell. */
export const shq = (s: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

const MAX_OUTPUT = 64 * 1024 * 1024
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function spawnCollect(cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs: number }): Promise<Omit<ShellResult, 'connectionError'>> {
  return new Promise((resolveP) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let timedOut = false
    child.stdout.on('data', (b: Buffer) => {
      if (outBytes < MAX_OUTPUT) out.push(b)
      outBytes += b.length
    })
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 1000) err.push(b)
    })
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL') // the whole group: a pipeline's children too
      } catch {
        child.kill('SIGKILL')
      }
    }, o.timeoutMs)
    child.on('error', (e) => err.push(Buffer.from(String(e.message))))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveP({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut })
    })
    child.stdin.on('error', () => {})
    if (o.input !== undefined) child.stdin.end(o.input)
    else child.stdin.end()
  })
}

/** How a cluster's login node is reached. */
export class ClusterShell {
  constructor(readonly profile: ClusterProfile) {}

  get remote(): boolean {
    return !!this.profile.ssh
  }

  /** where the commands run, for messages: "ssh HOST" or "this machine" */
  get where(): string {
    return this.profile.ssh ? `ssh ${this.profile.ssh}` : 'this machine'
  }

  /** ssh arguments before the destination */
  sshArgs(): string[] {
    const p = this.profile
    return [
      ...(p.sshConfig ? ['-F', p.sshConfig] : []),
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=15',
      '-o', 'ServerAliveInterval=10',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(tmpdir(), 'skipbench-ssh-%C')}`,
      '-o', 'ControlPersist=60',
    ]
  }

  /** The script, with SLURM_CONF exported when the profile names one. */
  private wrap(script: string): string {
    return (this.profile.slurmConf ? `export SLURM_CONF=${shq(this.profile.slurmConf)}\n` : '') + script
  }

  private async once(script: string, o: RunOptions): Promise<ShellResult> {
    const timeoutMs = o.timeoutMs ?? 60_000
    const full = this.wrap(script)
    if (!this.profile.ssh) {
      const r = await spawnCollect('bash', ['-c', full], { timeoutMs, ...(o.input !== undefined ? { input: o.input } : {}) })
      return { ...r, connectionError: false }
    }
    const r = await spawnCollect('ssh', [...this.sshArgs(), this.profile.ssh, `bash -c ${shq(full)}`], { timeoutMs, ...(o.input !== undefined ? { input: o.input } : {}) })
    return { ...r, connectionError: r.code === 255 }
  }

  /** Run a bash script on the login node. Never throws; see `check` for the throwing form. */
  async run(script: string, o: RunOptions = {}): Promise<ShellResult> {
    let r = await this.once(script, o)
    for (let i = 0; i < (o.retries ?? 0) && (r.connectionError || r.timedOut); i++) {
      await sleep(500 * 2 ** i)
      r = await this.once(script, o)
    }
    return r
  }

  /** Run and return stdout; a non-zero exit, time-out or connection error throws a ClusterError naming `what`. */
  async check(what: string, script: string, o: RunOptions = {}): Promise<string> {
    const r = await this.run(script, o)
    if (r.code === 0 && !r.timedOut) return r.stdout
    throw new ClusterError(`${what} on ${this.where}: ${describeFailure(r, o.timeoutMs ?? 60_000)}`)
  }

  /** Copy a local folder's contents into a folder on the cluster (created), replacing files of the same name. */
  async upload(localDir: string, remoteDir: string, timeoutMs = 600_000): Promise<void> {
    const mk = `mkdir -p ${shq(remoteDir)}`
    let r: Omit<ShellResult, 'connectionError'>
    if (!this.profile.ssh) r = await spawnCollect('bash', ['-c', `${mk} && cp -a ${shq(localDir)}/. ${shq(remoteDir)}/`], { timeoutMs })
    else {
      const ssh = ['ssh', ...this.sshArgs(), this.profile.ssh].map(shq).join(' ')
      r = await spawnCollect('bash', ['-o', 'pipefail', '-c', `tar -C ${shq(localDir)} -cf - . | ${ssh} ${shq(`${mk} && tar -C ${shq(remoteDir)} -xf -`)}`], { timeoutMs })
    }
    if (r.code !== 0 || r.timedOut) throw new ClusterError(`copying ${localDir} to ${remoteDir} on ${this.where}: ${describeFailure({ ...r, connectionError: false }, timeoutMs)}`)
  }

  /** Copy a folder on the cluster into a local folder (created); a missing remote folder copies nothing. */
  async download(remoteDir: string, localDir: string, timeoutMs = 600_000): Promise<void> {
    const mk = `mkdir -p ${shq(localDir)}`
    let r: Omit<ShellResult, 'connectionError'>
    if (!this.profile.ssh) r = await spawnCollect('bash', ['-c', `${mk} && if [ -d ${shq(remoteDir)} ]; then cp -a ${shq(remoteDir)}/. ${shq(localDir)}/; fi`], { timeoutMs })
    else {
      const ssh = ['ssh', ...this.sshArgs(), this.profile.ssh].map(shq).join(' ')
      const remote = `if [ -d ${shq(remoteDir)} ]; then tar -C ${shq(remoteDir)} -cf - .; else tar -cf - -T /dev/null; fi`
      r = await spawnCollect('bash', ['-o', 'pipefail', '-c', `${mk} && ${ssh} ${shq(remote)} | tar -C ${shq(localDir)} -xf -`], { timeoutMs })
    }
    if (r.code !== 0 || r.timedOut) throw new ClusterError(`copying ${remoteDir} from ${this.where}: ${describeFailure({ ...r, connectionError: false }, timeoutMs)}`)
  }
}

function describeFailure(r: ShellResult, timeoutMs: number): string {
  const err = r.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ')
  if (r.timedOut) return `no answer within ${Math.round(timeoutMs / 1000)} s${err ? ` (${err})` : ''} — a wrong SLURM_CONF makes Slurm clients retry for 60 s; check it (skipbench cluster check)`
  if (r.connectionError) return `ssh could not connect (${err || 'exit 255'})`
  if (/fetch_config|configuration source|s_p_parse_file|slurm\.conf/i.test(r.stderr))
    return `exit ${r.code}: Slurm finds no configuration (${err}); set SLURM_CONF (for scripts/slurm-local.sh: eval "$(scripts/slurm-local.sh start)" before adding the cluster) or give the profile --slurm-conf PATH`
  return `exit ${r.code}${err ? `: ${err}` : ''}`
}
