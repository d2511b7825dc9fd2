/** Subscribe to server events for the lifetime of the current component (or effect scope). */
import { getCurrentScope, onScopeDispose, watch } from 'vue'
import type { EventOf, ServerEventType } from '../../../core/contract/api'
import { bridge, connection } from '../api/bridge'

export function useEvent<T extends ServerEventType>(type: T, cb: (e: EventOf<T>) => void): () => void {
  const off = bridge.on(type, cb as never)
  if (getCurrentScope()) onScopeDispose(off)
  return off
}

/** Call `cb` after the event stream reconnects (events may have been missed: reload). */
export function onReconnect(cb: () => void): void {
  watch(
    () => connection.value.generation,
    (g, old) => {
      if (g > 1 && g !== old) cb()
    },
  )
}

/** A trailing debounce that is cancelled with the scope. */
export function useDebounced(fn: () => void, ms: number): () => void {
  let t: ReturnType<typeof setTimeout> | null = null
  if (getCurrentScope()) onScopeDispose(() => t && clearTimeout(t))
  return () => {
    if (t) clearTimeout(t)
    t = setTimeout(() => {
      t = null
      fn()
    }, ms)
  }
}

/** Run `fn` at most once per `ms` (leading and trailing calls), cancelled with the scope. */
export function useThrottled(fn: () => void, ms: number): () => void {
  let last = 0
  let t: ReturnType<typeof setTimeout> | null = null
  if (getCurrentScope()) onScopeDispose(() => t && clearTimeout(t))
  return () => {
    const now = Date.now()
    if (now - last >= ms) {
      last = now
      fn()
    } else if (!t) {
      t = setTimeout(() => {
        t = null
        last = Date.now()
        fn()
      }, ms - (now - last))
    }
  }
}
