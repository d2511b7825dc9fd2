import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const bin = new URL('../../bin/skipbench.mjs', import.meta.url).pathname

describe('skipbench serve', () => {
  it('prints the URL and the token off loopback, serves the API with it, and stops cleanly on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-serve-'))
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '0.0.0.0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += String(d)))
    child.stderr.on('data', (d) => (out += String(d)))
    try {
      const t0 = Date.now()
      while (!/access token: \S+/.test(out) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100))
      expect(out).toMatch(/open http:\/\/[^\s]+\/\?token=/)
      const token = /access token: (\S+)/.exec(out)![1]!
      const url = /open (http:\/\/[^/\s]+)/.exec(out)![1]!
      const post = (auth?: string) => fetch(`${url}/api/getSettings`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: '{}' })
      expect((await post()).status).toBe(401)
      const ok = await post(`Bearer ${token}`)
      expect(ok.status).toBe(200)
      const settings = ((await ok.json()) as { value: { dataDir: string; database: string; runsDir: string } }).value
      expect(settings).toMatchObject({ dataDir: dir, database: join(dir, 'skipbench.db'), runsDir: join(dir, 'runs') })
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGINT')
      })
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('rejects bad options with a usage error', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '70000'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += String(d)))
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    expect(code).toBe(2)
    expect(err).toMatch(/--port: a port from 0 to 65535/)
  })
})
