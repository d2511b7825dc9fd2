import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { acquireBackend, BackendUnavailableError, releaseBackend } from './backend.js'
import { createTfjsEngine } from './index.js'

describe('tfjs backend selection', () => {
  it("a forced 'tensorflow' backend that is not installed is a clear error saying what to install", async () => {
    const err = await acquireBackend('tensorflow').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    const msg = (err as Error).message
    expect(msg).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/)
    expect(msg).toMatch(/npm i @tensorflow\/tfjs-node-gpu@4\.22\.0/)
    expect(msg).toMatch(/CUDA 11\.2 and cuDNN 8\.1/)
    expect(msg).toMatch(/npm i @tensorflow\/tfjs-node@4\.22\.0/)
  })

  it("'auto' falls back to WASM with SIMD, verified with tf.getBackend(), and records why", async () => {
    const engine = await createTfjsEngine()
    try {
      expect(tf.getBackend()).toBe('wasm')
      expect(engine.info).toMatchObject({ engine: 'tfjs', backend: 'tfjs-wasm', dtype: 'float32' })
      expect(engine.info.versions).toMatchObject({ 'tfjs-core': '4.22.0', 'tfjs-backend-wasm': '4.22.0', simd: 'true' })
      expect(engine.backend.fallbacks.join(' ')).toMatch(/tensorflow.*not installed/)
      // another backend while an engine lives in this process is refused (tfjs has one global backend)
      await expect(createTfjsEngine({ backend: 'cpu' })).rejects.toThrow(/dispose them first/)
      const second = await createTfjsEngine({ backend: 'wasm' })
      await second.dispose()
    } finally {
      await engine.dispose()
    }
    const cpu = await createTfjsEngine({ backend: 'cpu' })
    expect(tf.getBackend()).toBe('cpu')
    expect(cpu.info.backend).toBe('tfjs-cpu')
    await cpu.dispose()
  })

  it('rejects an unknown backend name', async () => {
    await expect(acquireBackend('gpu' as never)).rejects.toThrow(/unknown tfjs backend 'gpu'/)
    releaseBackend()
  })
})
