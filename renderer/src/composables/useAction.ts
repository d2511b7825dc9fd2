/**
 * A user action with busy/error state (a button's click: save, export, re-run, cancel): `run(fn)` sets busy, clears
 * the previous error, and on failure keeps the message for the template. Loading data is useAsync's job.
 */
import { shallowRef, type ShallowRef } from 'vue'

export interface ActionState {
  busy: ShallowRef<boolean>
  error: ShallowRef<string | null>
  /** runs `fn`; true when it succeeded, false when it threw (its message is then in `error`) */
  run: (fn: () => Promise<unknown>) => Promise<boolean>
}

export function useAction(): ActionState {
  const busy = shallowRef(false)
  const error = shallowRef<string | null>(null)
  const run = async (fn: () => Promise<unknown>) => {
    busy.value = true
    error.value = null
    try {
      await fn()
      return true
    } catch (e) {
      error.value = (e as Error).message
      return false
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}
