/** Load data with loading/error state; `reload()` re-runs it, and stale answers (an older call finishing last) are dropped. */
import { shallowRef, type ShallowRef } from 'vue'

export interface AsyncState<T> {
  data: ShallowRef<T | null>
  error: ShallowRef<string | null>
  loading: ShallowRef<boolean>
  reload: () => Promise<void>
}

export function useAsync<T>(fn: () => Promise<T>, opts: { immediate?: boolean } = {}): AsyncState<T> {
  const data = shallowRef<T | null>(null) as ShallowRef<T | null>
  const error = shallowRef<string | null>(null)
  const loading = shallowRef(false)
  let seq = 0
  const reload = async () => {
    const my = ++seq
    loading.value = true
    try {
      const v = await fn()
      if (my !== seq) return
      data.value = v
      error.value = null
    } catch (e) {
      if (my !== seq) return
      error.value = (e as Error).message
    } finally {
      if (my === seq) loading.value = false
    }
  }
  if (opts.immediate !== false) void reload()
  return { data, error, loading, reload }
}
