// The layering of docs/architecture.md is enforced by lint; this proves the rules fire (and stay quiet on legal imports).
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })
async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath })
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('layering lint rules', () => {
  it('keeps Electron and Vue out of core/', async () => {
    expect(await layeringErrors('core/model/x.ts', "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(1)
    expect(await layeringErrors('core/trainer/x.ts', "import { ref } from 'vue'\nexport const a = ref\n")).toHaveLength(1)
    expect(await layeringErrors('core/trainer/x.ts', "import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n")).toHaveLength(0)
  })
  it('lets the renderer import only the contract and report builders', async () => {
    const bad = await layeringErrors('renderer/src/x.ts', "import { initWeights } from '../../core/model/init'\nexport const a = initWeights\n")
    expect(bad[0]).toMatch(/renderer\/ may import only core\/contract/)
    expect(await layeringErrors('renderer/src/x.ts', "import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n")).toHaveLength(1)
    expect(await layeringErrors('renderer/src/x.ts', "import { API } from '../../core/contract/api'\nexport const a = API\n")).toHaveLength(0)
    expect(await layeringErrors('renderer/src/x.ts', "import { RunConfigSchema } from '../../core/config/index'\nexport const a = RunConfigSchema\n")).toHaveLength(0)
  })
  it('keeps core/config pure: zod and its own files only', async () => {
    expect(await layeringErrors('core/config/x.ts', "import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n")).toHaveLength(1)
    expect(await layeringErrors('core/config/x.ts', "import { createEngine } from '../engine/index.js'\nexport const a = createEngine\n")).toHaveLength(1)
    expect(await layeringErrors('core/config/x.ts', "import { z } from 'zod'\nimport { issue } from './issues.js'\nexport const a = [z, issue]\n")).toHaveLength(0)
    expect(await layeringErrors('core/config/x.ts', "import { UserError } from '../user-errors.js'\nexport class E extends UserError {}\n")).toHaveLength(0)
    expect(await layeringErrors('core/config/x.ts', "import { packageFile } from '../paths.js'\nexport const a = packageFile\n")).toHaveLength(1)
  })
  it('keeps the contract free of node and engines, and main free of the renderer', async () => {
    expect(await layeringErrors('core/contract/x.ts', "import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n")).toHaveLength(1)
    expect(await layeringErrors('main/x.ts', "import App from '../renderer/src/App.vue'\nexport const a = App\n")).toHaveLength(1)
    expect(await layeringErrors('preload/x.ts', "import { initWeights } from '../core/model/init'\nexport const a = initWeights\n")).toHaveLength(1)
  })
  it('keeps test-only code out of production files', async () => {
    const bad = await layeringErrors('core/export/x.ts', "import { hasPoppler } from '../report-export/test-support.js'\nexport const a = hasPoppler\n")
    expect(bad[0]).toMatch(/production code must not import test-only code/)
    expect(await layeringErrors('core/jobs/x.ts', "import { expect } from 'vitest'\nexport const a = expect\n")).toHaveLength(1)
    expect(await layeringErrors('cli/x.ts', "import { tempDir } from '../core/store/test-helpers.js'\nexport const a = tempDir\n")).toHaveLength(1)
    expect(await layeringErrors('main/x.ts', "import { spawnParent } from '../core/jobs/testing/parent-process.js'\nexport const a = spawnParent\n")).toHaveLength(1)
    // tests and test-support files themselves may
    expect(await layeringErrors('core/report-export/x.test.ts', "import { hasPoppler } from './test-support.js'\nexport const a = hasPoppler\n")).toHaveLength(0)
    expect(await layeringErrors('core/jobs/test-support.ts', "import { expect } from 'vitest'\nexport const a = expect\n")).toHaveLength(0)
  })
})
