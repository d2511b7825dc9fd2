// The one event emitter: the job queue, the cluster manager, the trainer and the service's hub all use it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClusterManager } from '../cluster/manager.js'
import { JobQueue } from '../jobs/queue.js'
import { EventHub } from '../service/events.js'
import { Trainer } from '../trainer/trainer.js'
import { Listeners, TypedEmitter } from './emitter.js'

class Bell extends TypedEmitter<{ ring: number; stop: string }> {
  ring(n: number) {
    this.emit('ring', n)
  }
  stop(s: string) {
    this.emit('stop', s)
  }
}

afterEach(() => vi.restoreAllMocks())

describe('TypedEmitter and Listeners', () => {
  it('on() returns the unsubscribe function; once() fires once; events are kept apart by name', () => {
    const b = new Bell()
    const got: string[] = []
    const off = b.on('ring', (n) => got.push(`a${n}`))
    b.once('ring', (n) => got.push(`once${n}`))
    b.on('stop', (s) => got.push(`stop ${s}`))
    b.ring(1)
    b.ring(2)
    off()
    b.ring(3)
    b.stop('now')
    expect(got).toEqual(['a1', 'once1', 'a2', 'stop now'])
  })
  it('a listener that throws is reported and skipped; the others and the writer go on', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {})
    const b = new Bell()
    const got: number[] = []
    b.on('ring', () => {
      throw new Error('a closed socket')
    })
    b.on('ring', (n) => got.push(n))
    expect(() => b.ring(7)).not.toThrow()
    expect(got).toEqual([7])
    expect(err).toHaveBeenCalledWith('skipbench: a "ring" listener threw:', expect.any(Error))
  })
  it('a listener added while an event is delivered waits for the next one', () => {
    const l = new Listeners<number>()
    const got: string[] = []
    l.on((n) => {
      got.push(`first ${n}`)
      l.on((m) => got.push(`late ${m}`))
    })
    l.emit(1, 'n')
    expect(got).toEqual(['first 1'])
    l.emit(2, 'n')
    expect(got).toContain('late 2')
    expect(l.size).toBeGreaterThanOrEqual(2)
    l.clear()
    expect(l.size).toBe(0)
  })
  it('the queue, the cluster manager and the trainer are TypedEmitters; the hub delivers through Listeners', () => {
    for (const C of [JobQueue, ClusterManager, Trainer]) expect(C.prototype).toBeInstanceOf(TypedEmitter)
    const err = vi.spyOn(console, 'error').mockImplementation(() => {})
    const hub = new EventHub(0)
    const got: string[] = []
    hub.on(() => {
      throw new Error('destroyed window')
    })
    hub.on((e) => got.push(e.type))
    hub.emit({ type: 'settings-changed' } as never)
    expect(got).toEqual(['settings-changed'])
    expect(err).toHaveBeenCalledWith('skipbench: a "settings-changed" listener threw:', expect.any(Error))
    hub.close()
  })
})
