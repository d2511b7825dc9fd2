import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { listDatasets, removeStaleTemporaries } from '../dataset.js'
import { ShardError, readShardHeader } from '../shard.js'

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'skipbench-kill-'))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function walk(d: string): string[] {
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
}

it('an import killed with SIGKILL leaves no dataset and no shard that looks complete', async () => {
  const src = path.join(root, 'big.jsonl')
  const line = (i: number): string => JSON.stringify({ text: `Record ${i}. ` + 'The whale swam on through the grey sea, and the crew watched. '.repeat(40) })
  fs.writeFileSync(src, Array.from({ length: 4000 }, (_, i) => line(i)).join('\n'))
  const dataDir = path.join(root, 'data')
  const entry = new URL('./index.ts', import.meta.url).href
  const script = path.join(root, 'run.mts')
  fs.writeFileSync(
    script,
    `import { importDataset } from ${JSON.stringify(entry)}
await importDataset({ dataDir: ${JSON.stringify(dataDir)}, name: 'victim', from: ${JSON.stringify(src)}, tokenizer: 'gpt2', workers: 1,
  shardTokens: 20000, progressIntervalMs: 0, onProgress: (p) => { if (p.tokens > 100000) console.log('PROGRESS ' + p.tokens) } })
console.log('FINISHED')
`,
  )
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('PROGRESS')) {
        child.kill('SIGKILL')
        resolve()
      }
    })
    child.on('exit', () => (out.includes('PROGRESS') ? resolve() : reject(new Error(`child exited early: ${out} ${err}`))))
  })
  await new Promise((r) => child.once('exit', r).once('close', r))
  expect(out).not.toContain('FINISHED')
  expect(listDatasets(dataDir)).toEqual([]) // no dataset folder appeared
  const files = walk(path.join(dataDir, 'datasets'))
  for (const f of files) {
    if (/\.bin$/.test(f)) expect(readShardHeader(f).numTokens).toBe(20000) // finished shards are whole
    else {
      // a partial shard is under a temporary name and is not a valid shard
      expect(f).toMatch(/\.bin\.tmp-\d+-[0-9a-f]{8}$/)
      expect(() => readShardHeader(f)).toThrow(ShardError)
    }
  }
  // the next import (or an explicit call) removes the leftovers of the dead process
  expect(removeStaleTemporaries(dataDir).length).toBe(1)
  expect(fs.readdirSync(path.join(dataDir, 'datasets'))).toEqual([])
})
