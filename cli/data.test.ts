// `skipbench data ...` end to end through the real CLI process.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/skipbench.mjs', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('skipbench data', () => {
  const root = mkdtempSync(join(tmpdir(), 'sb-cli-data-'))
  const dataDir = join(root, 'data')
  mkdirSync(join(root, 'in'))
  const docs = Array.from({ length: 12 }, (_, i) => `Document number ${i}: the quick brown fox — naïve café ${'x'.repeat(i)}.`)
  writeFileSync(join(root, 'in', 'docs.jsonl'), docs.map((t) => JSON.stringify({ body: t })).join('\n') + '\n{not json}\n')

  it('prepares a JSONL dataset, lists it, and inspects a shard that decodes back to the documents', () => {
    const p = cli(['data', 'prepare', '--from', join(root, 'in', 'docs.jsonl'), '--text-field', 'body', '--tokenizer', 'byte', '--val-fraction', '0.2', '--name', 'mine', '--data-dir', dataDir, '--json'])
    expect(p.err).toBe('')
    expect(p.code).toBe(0)
    const manifest = JSON.parse(p.out) as { name: string; tokenizer: string; import: { skipped: Record<string, number>; docsWritten: number } }
    expect(manifest.name).toBe('mine')
    expect(Object.values(manifest.import.skipped).reduce((a, b) => a + b, 0)).toBe(1) // the malformed line, counted
    expect(manifest.import.docsWritten).toBe(12)

    const l = cli(['data', 'list', '--data-dir', dataDir, '--json'])
    const rows = JSON.parse(l.out) as { name: string; ok: boolean; tokenizer: string; trainTokens: number; valTokens: number }[]
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ name: 'mine', ok: true, tokenizer: 'byte' })
    expect(rows[0]!.trainTokens).toBeGreaterThan(0)
    expect(rows[0]!.valTokens).toBeGreaterThan(0)

    const dir = join(dataDir, 'datasets', 'mine')
    const shards = readdirSync(dir).filter((f) => f.endsWith('.bin'))
    let decoded = ''
    for (const s of shards) {
      const i = cli(['data', 'inspect', join(dir, s), '--sample', '100000', '--json'])
      expect(i.code).toBe(0)
      const info = JSON.parse(i.out) as { headerBytes: number; magic: number; tokenizer: string; sample: { text: string } }
      expect(info).toMatchObject({ headerBytes: 1024, magic: 20240520, tokenizer: 'byte' })
      decoded += info.sample.text
    }
    for (const d of docs) expect(decoded).toContain(d)
  })

  it('fails clearly on bad input and leaves no dataset behind', () => {
    const bad = cli(['data', 'prepare', '--from', join(root, 'missing'), '--name', 'nope', '--data-dir', dataDir])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/no such file or folder/)
    expect(bad.err).not.toMatch(/\n\s+at /) // no stack trace
    const noName = cli(['data', 'prepare', '--from', join(root, 'in'), '--data-dir', dataDir])
    expect(noName.err).toMatch(/--name/)
    const badVal = cli(['data', 'prepare', '--from', join(root, 'in'), '--name', 'x', '--val-fraction', '2', '--data-dir', dataDir])
    expect(badVal.err).toMatch(/val-fraction/)
    expect(readdirSync(join(dataDir, 'datasets')).filter((n) => !n.startsWith('.'))).toEqual(['mine'])
    const corrupt = join(root, 'corrupt.bin')
    writeFileSync(corrupt, Buffer.alloc(1500, 7))
    const c = cli(['data', 'inspect', corrupt])
    expect(c.code).not.toBe(0)
    expect(c.err).toMatch(/corrupt\.bin/)
  })
})
