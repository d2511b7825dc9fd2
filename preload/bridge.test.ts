import { describe, expect, it } from 'vitest'
import { API_METHODS, channelOf, type ServerEvent } from '../core/contract/api.js'
import { buildBridge, type BridgeTransport, type Reply } from './bridge.js'

function fake(replies: Record<string, Reply> = {}) {
  const calls: [string, unknown][] = []
  const listeners = new Set<(e: ServerEvent) => void>()
  const t: BridgeTransport = {
    invoke: async (channel, payload) => {
      calls.push([channel, payload])
      return replies[channel] ?? { ok: true, value: { echoed: payload } }
    },
    subscribe: (l) => {
      listeners.add(l)
      return () => void listeners.delete(l)
    },
  }
  return { t, calls, listeners, fire: (e: ServerEvent) => listeners.forEach((l) => l(e)) }
}

describe('preload bridge', () => {
  it('exposes exactly the contract methods plus on, frozen', () => {
    const b = buildBridge(fake().t)
    expect(Object.keys(b).sort()).toEqual([...API_METHODS, 'on'].sort())
    expect(Object.isFrozen(b)).toBe(true)
    for (const k of Object.keys(b)) expect(typeof (b as unknown as Record<string, unknown>)[k]).toBe('function')
    // nothing that could reach ipcRenderer or node
    for (const bad of ['ipcRenderer', 'send', 'invoke', 'require', 'process', 'removeAllListeners']) expect(bad in b).toBe(false)
  })
  it('invokes only prefixed channels of the contract and unwraps replies', async () => {
    const f = fake({ [channelOf('getRun')]: { ok: false, error: 'run 9 not found', code: 'not_found' } })
    const b = buildBridge(f.t)
    await expect(b.listExperiments({})).resolves.toEqual({ echoed: {} })
    await expect(b.getRun({ runId: 9 })).rejects.toThrow('run 9 not found')
    expect(f.calls.map(([c]) => c)).toEqual(['skipbench:listExperiments', 'skipbench:getRun'])
  })
  it('on(type, cb) filters by type and returns the unsubscribe function', () => {
    const f = fake()
    const b = buildBridge(f.t)
    const got: string[] = []
    const off = b.on('run-status', (e) => got.push(`${e.type}:${e.status}`))
    const all: string[] = []
    const offAll = b.on('*', (e) => all.push(e.type))
    f.fire({ type: 'run-status', runId: 1, experimentId: null, status: 'running', error: null, jobId: 1 })
    f.fire({ type: 'checkpoint', runId: 1, step: 3, final: false })
    off()
    f.fire({ type: 'run-status', runId: 1, experimentId: null, status: 'completed', error: null, jobId: 1 })
    offAll()
    expect(got).toEqual(['run-status:running'])
    expect(all).toEqual(['run-status', 'checkpoint', 'run-status'])
    expect(f.listeners.size).toBe(0)
    expect(() => b.on('nope' as 'log', () => {})).toThrow(/unknown event type/)
  })
})
