/**
 * The service's event stream (core/contract ServerEvent): one hub both transports subscribe to (the server's
 * WebSocket, Electron's webContents.send). Per-step events are coalesced per run (at most one every
 * `throttleMs`, the latest wins, and the pending one is flushed before that run's status changes), so a sweep of
 * fast tiny runs does not flood a renderer.
 */
import type { ServerEvent } from '../contract/api.js'
import { Listeners } from '../util/emitter.js'

export type EventListener = (e: ServerEvent) => void

export class EventHub {
  private readonly listeners = new Listeners<ServerEvent>()
  private readonly pending = new Map<string, { event: ServerEvent; timer: NodeJS.Timeout }>()
  private readonly last = new Map<string, number>()
  private closed = false

  constructor(private readonly throttleMs = 250) {}

  on(cb: EventListener): () => void {
    return this.listeners.on(cb)
  }

  get size(): number {
    return this.listeners.size
  }

  emit(e: ServerEvent): void {
    if (this.closed) return
    // a subscriber's bug (a closed socket, a destroyed window) must not break the writer
    this.listeners.emit(e, e.type)
  }

  /** Emit at most once per throttleMs per key; later events within the window replace the pending one. */
  emitThrottled(key: string, e: ServerEvent): void {
    if (this.closed) return
    const now = Date.now()
    const p = this.pending.get(key)
    if (p) {
      p.event = e
      return
    }
    const since = now - (this.last.get(key) ?? 0)
    if (since >= this.throttleMs) {
      this.last.set(key, now)
      this.emit(e)
      return
    }
    const timer = setTimeout(() => this.flush(key), this.throttleMs - since)
    timer.unref?.()
    this.pending.set(key, { event: e, timer })
  }

  /** Emit now what is pending under keys starting with `prefix` (e.g. before that run's status event). */
  flushPrefix(prefix: string): void {
    for (const k of [...this.pending.keys()]) if (k.startsWith(prefix)) this.flush(k)
  }

  private flush(key: string): void {
    const p = this.pending.get(key)
    if (!p) return
    clearTimeout(p.timer)
    this.pending.delete(key)
    this.last.set(key, Date.now())
    this.emit(p.event)
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer)
    this.pending.clear()
    this.closed = true
    this.listeners.clear()
  }
}
