/**
 * WebGPU correctness at full tiny-preset size: 50 training steps of every tiny preset (dense; gated with each
 * gated_attention mode, its controller in the loop) on onnxruntime's CPU and WebGPU providers from the same data,
 * seed and initialisation; per-step |Δloss| must stay below 1e-4. CI runs the same check at micro shapes
 * (core/engine/ort/webgpu.test.ts); this is the full-size one a person runs and quotes. On lavapipe (software
 * Vulkan) a tiny-preset step takes ~10-20 s, so the whole check takes about an hour there.
 *
 *   npm run check:webgpu [-- --steps 50] [--cases tiny-dense,tiny-gated:key,tiny-gated:query,tiny-gated:none]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { compareBackends } from '../core/trainer/backend-agreement.js'

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '50' },
    cases: { type: 'string', default: 'tiny-dense,tiny-gated:key,tiny-gated:query,tiny-gated:none' },
    'val-tokens': { type: 'string', default: '2048' },
  },
})
const steps = Number(args.steps)
const dataDir = mkdtempSync(join(tmpdir(), 'sb-check-webgpu-'))
let failed = 0
for (const c of args.cases.split(',')) {
  const [preset, mode] = c.split(':') as [string, string | undefined]
  const overrides = { ...(mode ? { model: { gated_attention: mode } } : {}), training: { val_tokens: Number(args['val-tokens']) } }
  const r = await compareBackends({ preset, overrides, steps, backends: ['cpu', 'webgpu'], dataDir })
  const ok = r.diffs.length === steps && r.maxDiff < 1e-4
  if (!ok) failed++
  const at = [0, 1, 2, 5, 10, 20, 30, 40, steps - 1].filter((i) => i < r.diffs.length)
  console.log(
    `${c}: ${steps} steps, max |Δloss| ${r.maxDiff.toExponential(2)} ${ok ? 'ok' : 'FAIL'} ` +
      `(loss ${r.runs[0].loss[0]!.toFixed(4)} → ${r.runs[0].loss.at(-1)!.toFixed(4)}; cpu ${r.runs[0].seconds.toFixed(0)} s, ` +
      `webgpu ${r.runs[1].seconds.toFixed(0)} s on ${String(r.runs[1].engineInfo.versions && (r.runs[1].engineInfo.versions as Record<string, string>).adapter)})`,
  )
  console.log(`  Δ by step: ${at.map((i) => `${i}:${r.diffs[i]!.toExponential(1)}`).join(' ')}`)
}
process.exitCode = failed ? 1 : 0
