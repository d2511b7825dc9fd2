/**
 * Fault suite, class "security": attacks on the HTTP API and the Electron shell (issue 12, items 1, 3 and 10).
 * Every case is one test whose name starts with its class tag, so `npm test` can count them by class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
