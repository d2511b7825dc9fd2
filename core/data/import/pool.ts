/**
 * Tokenization on worker threads (or inline). Workers run under plain Node:
 * - from built JavaScript, `tokenize-worker.js` next to this file is started directly;
 * - from TypeScript sources (vitest, tsx), the worker is started through a tiny eval bootstrap that registers
 *   tsx's loader inside the worker thread (`tsx/esm/api` → register()) and then imports `tokenize-worker.ts`.
 * `workerUrl` overrides the entry (for bundlers that move files).
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { getTokenizer } from '../../tokenizer/index.js'
import type { TokenizerName } from '../../tokenizer/types.js'
import { encodeBatch, type EncodedBatch } from './encode.js'

export interface Encoder {
  /** worker threads (0 = inline on the calling thread) */
  readonly workers: number
  encode(texts: string[], prefixEot: Uint8Array): Promise<EncodedBatch>
  close(): Promise<void>
}

/**
 * Default worker count: one per core beyond the reader/writer thread, at most 8 (the reading thread tops out near
 * 40–50 MB/s of text, about what 8 tokenizer threads consume); 0 (inline) on machines with 2 cores or fewer,
 * where a worker only competes with the reader for the same cores.
 */
export function defaultWorkerCount(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  return n <= 2 ? 0 : Math.min(8, n - 1)
}

function defaultWorkerUrl(): URL {
  const self = import.meta.url
  const ext = self.endsWith('.ts') || self.endsWith('.mts') ? '.ts' : '.js'
  return new URL(`./tokenize-worker${ext}`, self)
}

function startWorker(url: URL, tokenizer: TokenizerName): Worker {
  const workerData = { tokenizer }
  if (url.pathname.endsWith('.ts')) {
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}) })` +
      `.catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'fatal', message: String(e && e.stack || e) }) })`
    return new Worker(boot, { eval: true, workerData })
  }
  return new Worker(url, { workerData })
}

interface Pending {
  resolve: (r: EncodedBatch) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
}

class InlineEncoder implements Encoder {
  readonly workers = 0
  private readonly tok
  constructor(tokenizer: TokenizerName) {
    this.tok = getTokenizer(tokenizer)
  }
  encode(texts: string[], prefixEot: Uint8Array): Promise<EncodedBatch> {
    try {
      return Promise.resolve(encodeBatch(this.tok, texts, prefixEot))
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

class WorkerEncoder implements Encoder {
  private nextId = 1
  private failure: Error | undefined
  private closed = false

  private constructor(private readonly slots: Slot[]) {}

  get workers(): number {
    return this.slots.length
  }

  static async start(tokenizer: TokenizerName, n: number, url: URL): Promise<WorkerEncoder> {
    const slots: Slot[] = []
    const ready: Promise<void>[] = []
    const ref: { enc?: WorkerEncoder } = {}
    for (let i = 0; i < n; i++) {
      const worker = startWorker(url, tokenizer)
      const slot: Slot = { worker, pending: new Map() }
      slots.push(slot)
      ready.push(
        new Promise<void>((resolve, reject) => {
          let isReady = false
          worker.on('message', (msg: { type: string; id?: number; message?: string; tokens?: Uint16Array; lengths?: Uint32Array; longRunsSplit?: number }) => {
            if (msg.type === 'ready') {
              isReady = true
              resolve()
            } else if (msg.type === 'fatal') {
              reject(new Error(`tokenizer worker failed to load ${url.href}: ${msg.message}`))
            } else if (msg.type === 'result' || msg.type === 'error') {
              const p = slot.pending.get(msg.id!)
              if (!p) return
              slot.pending.delete(msg.id!)
              if (msg.type === 'result') p.resolve({ tokens: msg.tokens!, lengths: msg.lengths!, longRunsSplit: msg.longRunsSplit! })
              else p.reject(new Error(`tokenizer worker error: ${msg.message}`))
            }
          })
          const fail = (err: Error): void => {
            if (!isReady) reject(new Error(`tokenizer worker failed to start (${url.href}): ${err.message}`))
            ref.enc?.fail(err)
          }
          worker.on('error', (e) => fail(e))
          worker.on('exit', (code) => {
            if (ref.enc && !ref.enc.closed) fail(new Error(`tokenizer worker exited unexpectedly with code ${code}`))
            else if (!isReady) reject(new Error(`tokenizer worker exited with code ${code} before it was ready (${url.href})`))
          })
        }),
      )
    }
    const enc = new WorkerEncoder(slots)
    ref.enc = enc
    try {
      await Promise.all(ready)
    } catch (e) {
      await enc.close()
      throw e
    }
    return enc
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(err)
      s.pending.clear()
    }
  }

  encode(texts: string[], prefixEot: Uint8Array): Promise<EncodedBatch> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new Error('encoder is closed'))
    let slot = this.slots[0]!
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s
    const id = this.nextId++
    return new Promise<EncodedBatch>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      slot.worker.postMessage({ id, texts, prefixEot })
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.fail(this.failure ?? new Error('encoder closed'))
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}

/** An encoder with `workers` threads (0 = inline). */
export async function createEncoder(tokenizer: TokenizerName, workers: number, workerUrl?: URL | string): Promise<Encoder> {
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a non-negative integer, got ${workers}`)
  if (workers === 0) return new InlineEncoder(tokenizer)
  const url = workerUrl === undefined ? defaultWorkerUrl() : typeof workerUrl === 'string' ? new URL(workerUrl, 'file://') : workerUrl
  return WorkerEncoder.start(tokenizer, workers, url)
}
