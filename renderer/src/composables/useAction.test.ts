import { describe, expect, it } from 'vitest'
import { useAction } from './useAction'

describe('useAction', () => {
  it('is busy while the action runs, keeps a failure message, and clears it on the next run', async () => {
    const a = useAction()
    let release!: () => void
    const p = a.run(() => new Promise<void>((r) => (release = r)))
    expect(a.busy.value).toBe(true)
    release()
    expect(await p).toBe(true)
    expect(a.busy.value).toBe(false)
    expect(await a.run(() => Promise.reject(new Error('no such run')))).toBe(false)
    expect(a.error.value).toBe('no such run')
    expect(a.busy.value).toBe(false)
    const next = a.run(async () => {})
    expect(a.error.value).toBeNull()
    expect(await next).toBe(true)
  })
})
