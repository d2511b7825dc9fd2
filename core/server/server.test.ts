import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { request } from 'node:http'
import { join } from 'node:path'
import WebSocket from 'ws'
import { EVENTS_PATH, ServerEvent } from '../contract/api.js'
import { startServer, tokenOf, type RunningServer } from './server.js'

const json = { 'content-type': 'application/json' }

/** Open a WebSocket; resolves with it once open, rejects with the HTTP status of a refused upgrade. */
function connect(url: string, protocols?: string[], headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, headers ? { headers } : {})
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

function nextEvent(ws: WebSocket, pred: (e: ServerEvent) => boolean, ms = 10_000): Promise<ServerEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no matching event')), ms)
    ws.on('message', (data) => {
      const raw = JSON.parse(String(data)) as { type: string }
      if (raw.type === 'hello') return
      const e = ServerEvent.parse(raw)
      if (pred(e)) {
        clearTimeout(t)
        resolve(e)
      }
    })
  })
}

describe('headless server', () => {
  let dir: string
  let open: RunningServer
  let locked: RunningServer
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-srv-'))
    open = await startServer({ dataDir: join(dir, 'a') })
    locked = await startServer({ dataDir: join(dir, 'b'), token: 'secret-token-123' })
  })
  afterAll(async () => {
    await open.close()
    await locked.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('binds to loopback by default and needs no token there', async () => {
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(open.token).toBeNull()
    const r = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: json, body: '{}' })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'")
    const body = (await r.json()) as { value: { name: string; engines: unknown[] } }
    expect(body.value.name).toBe('skipbench')
    expect(body.value.engines.length).toBeGreaterThan(0)
  })

  it('generates a token when bound off loopback, and prints it in the URL to open', async () => {
    const s = await startServer({ dataDir: join(dir, 'c'), host: '0.0.0.0' })
    try {
      expect(s.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
      expect(s.openUrl).toContain(`?token=${s.token}`)
      const port = new URL(s.url).port
      expect((await fetch(`http://127.0.0.1:${port}/api/getSettings`, { method: 'POST', headers: json, body: '{}' })).status).toBe(401)
      const ok = await fetch(`http://127.0.0.1:${port}/api/getSettings`, { method: 'POST', headers: { ...json, authorization: `Bearer ${s.token}` }, body: '{}' })
      expect(ok.status).toBe(200)
    } finally {
      await s.close()
    }
  })

  it('refuses HTTP requests without the right token when one is required', async () => {
    const r = await fetch(`${locked.url}/api/getAppInfo`, { method: 'POST', body: '{}', headers: json })
    expect(r.status).toBe(401)
    expect(((await r.json()) as { error: string }).error).toMatch(/access token/)
    const wrong = await fetch(`${locked.url}/api/getAppInfo`, { method: 'POST', body: '{}', headers: { ...json, authorization: 'Bearer secret-token-124' } })
    expect(wrong.status).toBe(401)
    const inQuery = await fetch(`${locked.url}/api/getAppInfo?token=secret-token-123`, { method: 'POST', body: '{}', headers: json })
    expect(inQuery.status).toBe(401) // HTTP takes the header only
    const ok = await fetch(`${locked.url}/api/getAppInfo`, { method: 'POST', body: '{}', headers: { ...json, authorization: 'Bearer secret-token-123' } })
    expect(ok.status).toBe(200)
  })

  it('refuses WebSocket connections without the token; accepts it in the query or a subprotocol', async () => {
    const ws = locked.url.replace('http', 'ws') + EVENTS_PATH
    await expect(connect(ws)).rejects.toThrow('HTTP 401')
    await expect(connect(`${ws}?token=nope`)).rejects.toThrow('HTTP 401')
    await expect(connect(ws, ['skipbench', 'skipbench.token.wrong'])).rejects.toThrow('HTTP 401')
    const q = await connect(`${ws}?token=secret-token-123`)
    q.close()
    const p = await connect(ws, ['skipbench', 'skipbench.token.secret-token-123'])
    expect(p.protocol).toBe('skipbench') // never echoes the token
    p.close()
  })

  it('refuses cross-origin requests and foreign Host names (DNS rebinding)', async () => {
    const r = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { ...json, origin: 'https://evil.example' }, body: '{}' })
    expect(r.status).toBe(403)
    const same = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { ...json, origin: open.url }, body: '{}' })
    expect(same.status).toBe(200)
    await expect(connect(open.url.replace('http', 'ws') + EVENTS_PATH, undefined, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
    const port = new URL(open.url).port
    // fetch cannot set Host: use node:http
    const status = (hostHeader: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path: '/api/getAppInfo', method: 'POST', headers: { ...json, host: hostHeader } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end('{}')
      })
    expect(await status(`evil.example:${port}`)).toBe(403)
    expect(await status(`localhost:${port}`)).toBe(200)
  })

  it('answers malformed payloads with a 4xx and a message, and keeps serving', async () => {
    const post = (path: string, body: string, headers: Record<string, string> = json) => fetch(`${open.url}${path}`, { method: 'POST', headers, body })
    const cases: [string, string, Record<string, string>?][] = [
      ['/api/getAppInfo', '{"unexpected": 1}'],
      ['/api/getAppInfo', '{not json'],
      ['/api/getRun', '{"runId": "seven"}'],
      ['/api/getRun', '[1,2,3]'],
      ['/api/getRun', '"just a string"'],
      ['/api/createExperiment', JSON.stringify({ name: 'x'.repeat(500) })],
      ['/api/startRun', JSON.stringify({ config: { model: { dim: -1 } } })],
      ['/api/getSeries', JSON.stringify({ runIds: [], keys: ['train/loss'] })],
      ['/api/getAppInfo', 'plain text', { 'content-type': 'text/plain' }],
      ['/api/getAppInfo', `{"a":"${'x'.repeat(2 << 20)}"}`],
    ]
    for (const [path, body, headers] of cases) {
      const r = await post(path, body, headers)
      expect(r.status, `${path} ${body.slice(0, 40)}`).toBeGreaterThanOrEqual(400)
      expect(r.status, `${path} ${body.slice(0, 40)}`).toBeLessThan(500)
      const msg = (await r.json()) as { error: string; code: string }
      expect(msg.error.length).toBeGreaterThan(3)
    }
    const nf = await post('/api/getRun', '{"runId": 999}')
    expect(nf.status).toBe(404)
    expect(((await nf.json()) as { error: string }).error).toMatch(/run 999 not found/)
    const unknown = await post('/api/deleteEverything', '{}')
    expect(unknown.status).toBe(404)
    expect((await fetch(`${open.url}/api/getAppInfo`)).status).toBe(404) // GET is not an API call
    const again = await post('/api/getAppInfo', '{}')
    expect(again.status).toBe(200)
  })

  it('streams events over the WebSocket', async () => {
    const ws = await connect(open.url.replace('http', 'ws') + EVENTS_PATH)
    const got = nextEvent(ws, (e) => e.type === 'experiment-changed' && e.change === 'created')
    const r = await fetch(`${open.url}/api/createExperiment`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'ws-test' }) })
    expect(r.status).toBe(200)
    const e = await got
    expect(e).toMatchObject({ type: 'experiment-changed', change: 'created' })
    ws.close()
  })

  it('reads tokens from the header, the query and the subprotocol', () => {
    expect(tokenOf({ headers: { authorization: 'Bearer abc' }, url: '/' }, false)).toBe('abc')
    expect(tokenOf({ headers: {}, url: '/api/events?token=q1' }, true)).toBe('q1')
    expect(tokenOf({ headers: {}, url: '/api/events?token=q1' }, false)).toBeNull()
    expect(tokenOf({ headers: { 'sec-websocket-protocol': 'skipbench, skipbench.token.p1' }, url: '/' }, true)).toBe('p1')
  })
})
