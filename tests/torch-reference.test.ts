// The independent PyTorch reference (tests/reference/torch_reference.py, Debian python3-torch) regenerates every
// golden fixture in memory and must reproduce the files on disk byte for byte (`--check`); it also runs its own
// self-tests first. Skipped only where /usr/bin/python3 has no torch (.ci/run installs python3-torch).
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PY = '/usr/bin/python3'
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0

describe.skipIf(!hasTorch)('PyTorch reference', () => {
  it('torch_reference.py --check: the golden fixtures on disk are what the reference computes', () => {
    const r = spawnSync(PY, [join(root, 'tests/reference/torch_reference.py'), '--check'], { cwd: root, encoding: 'utf8', timeout: 240_000 })
    expect(r.stderr + r.stdout).not.toMatch(/differs|Traceback/)
    expect(r.status).toBe(0)
  }, 300_000)
})
