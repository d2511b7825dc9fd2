/**
 * Fault suite, class "security": attacks on the HTTP API and the Electron shell (issue 12, items 1, 3 and 10).
 * Every case is one test whose name starts with its class tag, so `npm test` can count them by class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { allowNavigation, isAllowedNavigation, isTrustedSender, rendererFileUrl } from '../main/security.js'
import { tinyRunConfig } from '../core/store/test-helpers.js'
import { isLoopbackName, requiresToken, startServer, type RunningServer } from '../core/server/server.js'

/** POST with an arbitrary Host and Origin (fetch cannot set Host). */
function post(port: number, path: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let b = ''
      res.on('data', (d) => (b += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('DNS rebinding and exposure (item 1)', () => {
  let dir: string
  let srv: RunningServer
  let port: number
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-fsec-'))
    srv = await startServer({ dataDir: join(dir, 'd') })
    port = Number(new URL(srv.url).port)
  })
  afterAll(async () => {
    await srv.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('[security] the issue\'s curl (Host and Origin 127.0.0.1.evil.example) gets 403', async () => {
    const evil = `127.0.0.1.evil.example:${port}`
    const r = await post(port, '/api/getSettings', { host: evil, origin: `http://${evil}` })
    expect(r.status).toBe(403)
  })

  it.each([
    ['127.evil.example'],
    ['127.0.0.1.nip.io'],
    ['127.0.0.256'],
    ['127.1'],
    ['localhost.evil.example'],
    ['[::1].evil.example'],
    ['[::ffff:7f00:1]'],
    ['0.0.0.0'],
  ])('[security] a rebinding Host %s gets 403', async (name) => {
    expect((await post(port, '/api/getSettings', { host: `${name}:${port}` })).status).toBe(403)
  })

  it.each([['127.0.0.1'], ['127.3.4.5'], ['localhost'], ['[::1]']])('[security] a loopback Host %s is served', async (name) => {
    expect((await post(port, '/api/getSettings', { host: `${name}:${port}`, origin: `http://${name}:${port}` })).status).toBe(200)
  })

  it('[security] an Origin naming a rebinding host is refused even with a loopback Host', async () => {
    expect((await post(port, '/api/getSettings', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1.evil.example:${port}` })).status).toBe(403)
  })

  it('[security] loopback names are IP literals in 127.0.0.0/8, localhost and ::1 only', () => {
    for (const ok of ['127.0.0.1', '127.255.255.254', 'localhost', 'LOCALHOST', '::1', '[::1]']) expect(isLoopbackName(ok), ok).toBe(true)
    for (const bad of ['127.0.0.1.evil.example', '127.', '127.0.0', '127.0.0.01x', '1127.0.0.1', '128.0.0.1', '::', '0:0:0:0:0:0:0:2', 'localhost.', 'evil.localhost'])
      expect(isLoopbackName(bad), bad).toBe(false)
  })

  it('[security] the token is required when bound to anything but exactly 127.0.0.1 or ::1', async () => {
    expect(requiresToken('127.0.0.1')).toBe(false)
    expect(requiresToken('::1')).toBe(false)
    for (const h of ['localhost', '127.0.0.2', '0.0.0.0', '::', '192.168.1.4', 'myhost']) expect(requiresToken(h), h).toBe(true)
    const s = await startServer({ dataDir: join(dir, 'e'), host: '127.0.0.2' })
    try {
      expect(s.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
      const p = Number(new URL(s.url).port)
      const r = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.2', port: p, path: '/api/getSettings', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end('{}')
      })
      expect(r).toBe(401)
    } finally {
      await s.close()
    }
  })
})

describe('file-system reach of the API (item 3)', () => {
  let dir: string
  let srv: RunningServer
  let dataDir: string
  let outside: string
  const call = async (method: string, body: unknown) => {
    const r = await fetch(`${srv.url}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, body: (await r.json()) as { value?: never; error?: string } }
  }
  let exp: number
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-fpath-'))
    dataDir = join(dir, 'data')
    outside = join(dir, 'elsewhere')
    mkdirSync(outside, { recursive: true })
    writeFileSync(join(outside, 'report.json'), 'precious')
    writeFileSync(join(outside, 'notes.txt'), 'not for the API '.repeat(100))
    srv = await startServer({ dataDir })
    exp = ((await call('createExperiment', { name: 'paths' })).body.value as unknown as { id: number }).id
    // one finished tiny run, so the experiment has a report to write
    const started = await call('startRun', { config: tinyRunConfig({ steps: 2 }), experimentId: exp })
    const runId = (started.body.value as unknown as { runId: number }).runId
    for (let i = 0; i < 600; i++) {
      const r = (await call('getRun', { runId })).body.value as unknown as { run: { status: string } }
      if (r.run.status === 'completed') break
      if (r.run.status === 'failed') throw new Error('the tiny run failed')
      await new Promise((res) => setTimeout(res, 100))
    }
  })
  afterAll(async () => {
    await srv.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('[security] exportReport to a folder outside the data and reports folders is refused, and nothing there is touched', async () => {
    const r = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: outside })
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(/outside the folders skipbench may write to/)
    expect(r.body.error).toMatch(/Settings/)
    expect(readFileSync(join(outside, 'report.json'), 'utf8')).toBe('precious')
  })

  it('[security] exportReport with a relative outDir lands in the data folder, not the server\'s working directory', async () => {
    const r = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: 'rel-out' })
    expect(r.status, r.body.error).toBe(200)
    expect((r.body.value as unknown as { outDir: string }).outDir).toBe(join(realpathSync(dataDir), 'rel-out'))
    expect(existsSync(join(dataDir, 'rel-out', 'report.json'))).toBe(true)
    expect(existsSync(join(process.cwd(), 'rel-out'))).toBe(false)
  })

  it('[security] exportReport does not overwrite an existing report unless asked', async () => {
    const again = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: 'rel-out' })
    expect(again.status).toBe(409)
    expect(again.body.error).toMatch(/already exists.*overwrite/)
    const ok = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: 'rel-out', overwrite: true })
    expect(ok.status, ok.body.error).toBe(200)
  })

  it('[security] a symlink inside the data folder that points outside does not widen the reach', async () => {
    symlinkSync(outside, join(dataDir, 'link-out'))
    const r = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: 'link-out/x', overwrite: true })
    expect(r.status).toBe(400)
    expect(existsSync(join(outside, 'x'))).toBe(false)
  })

  it('[security] importDataset from a file outside the allowed folders (/etc/passwd) is refused', async () => {
    const r = await call('importDataset', { name: 'pw', from: ['/etc/passwd'], format: 'jsonl' })
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(/\/etc\/passwd.*outside the folders skipbench may read/)
  })

  it('[security] startRun with data shards outside the allowed folders is refused', async () => {
    const config = { model: { dim: 16, n_layers: 2, n_heads: 2, vocab_size: 32, max_seq_len: 16 }, training: { train_steps: 2 }, data: { train_shards: [join(outside, 'a.bin')], val_shards: [join(outside, 'b.bin')] } }
    const r = await call('startRun', { config })
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(/a\.bin.*outside the folders/)
    const r2 = await call('startRun', { config: { ...config, data: { dataset: outside } } })
    expect(r2.status).toBe(400)
  })

  it('[security] evaluateRun on a dataset path outside the allowed folders is refused', async () => {
    const runs = (await call('listRuns', { experimentId: exp })).body.value as unknown as { rows: { id: number }[] }
    const r = await call('evaluateRun', { runId: runs.rows[0]!.id, dataset: outside })
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(/dataset folder .*outside the folders skipbench may read from/)
  })

  it('[security] a folder the user allows in Settings can then be written to', async () => {
    const s = await call('updateSettings', { allowedFolders: [outside] })
    expect(s.status, s.body.error).toBe(200)
    expect((s.body.value as unknown as { allowedFolders: string[] }).allowedFolders).toEqual([outside])
    const r = await call('exportReport', { experimentId: exp, formats: ['json'], outDir: join(outside, 'rep') })
    expect(r.status, r.body.error).toBe(200)
    expect(readFileSync(join(outside, 'report.json'), 'utf8')).toBe('precious')
    const bad = await call('updateSettings', { allowedFolders: ['relative/folder'] })
    expect(bad.status).toBe(400)
  })
})

describe('Electron navigation guard and IPC sender checks (item 10)', () => {
  const at = { fileUrl: rendererFileUrl('/opt/skipbench/out/renderer/index.html') }
  const dev = { ...at, devServerUrl: 'http://localhost:5173/' }

  it.each([
    ['file:///tmp/evil/renderer/index.html'],
    ['file:///opt/skipbench/out/renderer/index.html.evil'],
    ['file:///opt/skipbench/out/renderer/index.html/../../../etc/passwd'],
    ['file:///home/me/Downloads/x/out/renderer/index.html'],
    ['file:///opt/skipbench/out/renderer/index.html?x=/renderer/index.html'],
    ['file://evil.example/opt/skipbench/out/renderer/index.html'],
    ['https://evil.example/out/renderer/index.html'],
    ['http://localhost:5174/'],
    ['javascript:alert(1)'],
    ['not a url'],
  ])('[security] the navigation guard refuses %s', (url) => {
    expect(isAllowedNavigation(url, dev)).toBe(false)
    expect(allowNavigation('navigate', url, true, dev)).toBe(false)
  })

  it('[security] the navigation guard allows exactly the renderer (routes included) and the dev server', () => {
    expect(isAllowedNavigation('file:///opt/skipbench/out/renderer/index.html', at)).toBe(true)
    expect(isAllowedNavigation('file:///opt/skipbench/out/renderer/index.html#/runs/4', at)).toBe(true)
    expect(isAllowedNavigation('http://localhost:5173/#/x', dev)).toBe(true)
    expect(isAllowedNavigation('http://localhost:5173/#/x', at)).toBe(false) // no dev server in a packaged app
  })

  it('[security] redirects are never followed and sub-frames hold only inline documents', () => {
    expect(allowNavigation('redirect', 'file:///opt/skipbench/out/renderer/index.html', true, at)).toBe(false)
    expect(allowNavigation('redirect', 'https://evil.example/', false, at)).toBe(false)
    expect(allowNavigation('frame-navigate', 'about:srcdoc', false, at)).toBe(true)
    expect(allowNavigation('frame-navigate', 'https://evil.example/', false, at)).toBe(false)
    expect(allowNavigation('frame-navigate', 'file:///opt/skipbench/out/renderer/index.html', false, at)).toBe(false)
    expect(allowNavigation('frame-navigate', 'file:///opt/skipbench/out/renderer/index.html#/x', true, at)).toBe(true)
  })

  it('[security] IPC is trusted only from the main frame showing the renderer', () => {
    const main = { url: 'file:///opt/skipbench/out/renderer/index.html#/' }
    expect(isTrustedSender({ senderFrame: main, sender: { mainFrame: main } }, at)).toBe(true)
    const navigated = { url: 'file:///tmp/evil/renderer/index.html' }
    expect(isTrustedSender({ senderFrame: navigated, sender: { mainFrame: navigated } }, at)).toBe(false)
    expect(isTrustedSender({ senderFrame: { url: main.url }, sender: { mainFrame: main } }, at)).toBe(false) // a sub-frame
    expect(isTrustedSender({ senderFrame: null, sender: { mainFrame: main } }, at)).toBe(false)
  })
})
