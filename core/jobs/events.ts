/** A tiny typed event emitter: on() returns the unsubscribe function (the shape the preload and vueuse use). */
export class TypedEmitter<E extends object> {
  private listeners = new Map<keyof E, Set<(e: never) => void>>()

  on<K extends keyof E>(event: K, cb: (e: E[K]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(cb as (e: never) => void)
    return () => void set.delete(cb as (e: never) => void)
  }

  once<K extends keyof E>(event: K, cb: (e: E[K]) => void): () => void {
    const off = this.on(event, (e) => {
      off()
      cb(e)
    })
    return off
  }

  protected emit<K extends keyof E>(event: K, e: E[K]): void {
    for (const cb of [...(this.listeners.get(event) ?? [])]) {
      try {
        ;(cb as (e: E[K]) => void)(e)
      } catch (err) {
        // a subscriber's bug must not break the writer
        console.error(`skipbench: a "${String(event)}" listener threw:`, err)
      }
    }
  }
}
