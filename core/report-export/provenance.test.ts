// Reports list each run's provenance (ADR 0022): the appendix's software table carries the skipbench version, git
// commit, runtime versions, machine, GPU and dataset hashes recorded with the runs.
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../store/index.js'
import { tempDir } from '../store/test-helpers.js'
import { buildReportModel } from './build.js'
import { seedSyntheticExperiment } from './synthetic.js'

const tmp = tempDir('skipbench-report-prov-')
afterAll(() => tmp.cleanup())

describe('report provenance', () => {
  it('the appendix lists the provenance recorded with the runs', () => {
    const store = openStore(tmp.file('db.sqlite'))
    try {
      const { runIds } = seedSyntheticExperiment(store, { experiment: 'prov', runs: 6 })
      const provenance = {
        format: 1,
        skipbench: '0.1.0',
        git: { commit: 'abcdef0123456789', dirty: true, diff: '+x', diffTruncated: false },
        node: '24.0.0',
        onnxruntime: '1.30.0',
        tfjs: '4.22.0',
        os: { platform: 'linux', release: '6.1', arch: 'x64' },
        cpu: { model: 'Test CPU', cores: 2 },
        gpu: null,
        engine: { engine: 'ort', backend: 'cpu', versions: {} },
        datasets: [{ split: 'train', path: '/data/default/train_000.bin', bytes: 10, sha256: 'f'.repeat(64) }],
        seed: 0,
        config: {},
      }
      for (const id of runIds) store.runs.update(id, { provenance })
      const m = buildReportModel(store, { experiment: 'prov' })
      const soft = Object.fromEntries(m.appendix.software.map((s) => [s.name, `${s.value} (${s.runs ?? '-'})`]))
      expect(soft['git commit']).toBe('abcdef012345 (dirty) (6)')
      expect(soft['cpu']).toBe('Test CPU × 2 (6)')
      expect(soft['gpu']).toBe('none found (6)')
      expect(soft['os']).toBe('linux 6.1 x64 (6)')
      expect(soft['data train sha256']).toBe(`${'f'.repeat(16)}… train_000.bin (6)`)
      expect(soft['skipbench (training)']).toBe('0.1.0 (6)')
    } finally {
      store.close()
    }
  })
})
