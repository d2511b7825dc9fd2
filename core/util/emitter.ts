/**
 * The one event emitter of core/ (the job queue, the cluster manager, the trainer, the service's event hub).
 * `Listeners<T>` holds the callbacks of one kind of event: on() returns the unsubscribe function (the shape the
 * preload and vueuse use), and emit() calls each in turn; a listener that throws is reported and skipped, so a
 * subscriber's bug (a closed socket, a destroyed window) never breaks the writer. `TypedEmitter<E>` keeps one
 * Listeners per event name of E.
 */
export class Listeners<T> {
  private readonly callbacks = new Set<(e: T) => void>()

  on(cb: (e: T) => void): () => void {
    this.callbacks.add(cb)
    return () => void this.callbacks.delete(cb)
  }

  get size(): number {
    return this.callbacks.size
  }

  /** Call every listener (those added meanwhile wait for the next event); `what` names the event in a report. */
  emit(e: T, what: string): void {
    for (const cb of [...this.callbacks]) {
      try {
        cb(e)
      } catch (err) {
        console.error(`skipbench: a "${what}" listener threw:`, err)
      }
    }
  }

  clear(): void {
    this.callbacks.clear()
  }
}

export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Listeners<unknown>>()

  on<K extends keyof E>(event: K, cb: (e: E[K]) => void): () => void {
    let l = this.listeners.get(event)
    if (!l) this.listeners.set(event, (l = new Listeners<unknown>()))
    return l.on(cb as (e: unknown) => void)
  }

  once<K extends keyof E>(event: K, cb: (e: E[K]) => void): () => void {
    const off = this.on(event, (e) => {
      off()
      cb(e)
    })
    return off
  }

  protected emit<K extends keyof E>(event: K, e: E[K]): void {
    this.listeners.get(event)?.emit(e, String(event))
  }
}
