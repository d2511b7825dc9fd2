/**
 * The tiny presets learn: on the shipped corpus (byte tokenizer, vocab 257) the validation loss falls well below the
 * unigram entropy of the validation tokens. A shortened schedule keeps the test near a minute on 2 cores (corpus preparation included; the timeout allows for a full parallel suite on them); the
 * full preset (500 steps) reaches ≈ 1.55 nats against a unigram entropy of ≈ 3.0.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { mergeConfig, parseRunConfig } from '../config/index.js'
import { prepareRun } from './run.js'
import { getPreset, PRESETS } from '../config/presets.js'

const tmp = mkdtempSync(join(tmpdir(), 'skipbench-presets-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('presets', () => {
  it('each has a name, a description and a valid config', () => {
    expect(PRESETS.map((p) => p.name)).toEqual(expect.arrayContaining(['tiny-dense', 'tiny-gated', 'paper-12l', 'paper-baseline-12l']))
    for (const p of PRESETS) {
      const c = parseRunConfig(p.config)
      expect(c.model.zero_init_masks).toBe(p.kind === 'dense')
      expect(p.description.length).toBeGreaterThan(10)
    }
  })

  it('tiny-gated learns: validation loss well below the unigram entropy of its data', { timeout: 180_000 }, async () => {
    const cfg = parseRunConfig(
      mergeConfig(structuredClone(getPreset('tiny-gated')!.config), {
        training: { train_steps: 80, val_every: 0, val_tokens: 8192, checkpoint_every: 0 },
        engine: { engine: 'ort', threads: 2 },
      }),
    )
    const p = await prepareRun({ config: cfg, runDir: join(tmp, 'tiny-gated'), dataDir: join(tmp, 'data') })
    try {
      const vals: number[] = []
      p.trainer.on('validation', (e) => vals.push(e.loss))
      const done = await p.trainer.run()
      const H = p.data.info.unigramEntropy
      expect(p.data.info).toMatchObject({ dataset: 'default', tokenizer: 'byte', vocabSize: 257 })
      expect(H).toBeGreaterThan(2.5)
      expect(vals[0]).toBeGreaterThan(H) // random init: ≈ ln 257
      expect(done.lastValidation!.loss).toBeLessThan(H - 0.5)
    } finally {
      await p.close()
    }
  })
})
