import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningServer } from './server.js'

describe('headless server', () => {
  let open: RunningServer
  let locked: RunningServer
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-srv-'))
    open = await startServer({ dataDir })
    locked = await startServer({ dataDir, token: 'secret-token-123' })
  })
  afterAll(async () => {
    await open.close()
    await locked.close()
  })

  it('binds to loopback by default and needs no token there', async () => {
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(open.token).toBeNull()
    const r = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { value: { name: string; engines: unknown[] } }
    expect(body.value.name).toBe('skipbench')
    expect(body.value.engines.length).toBeGreaterThan(0)
  })
  it('refuses requests without the token when one is required', async () => {
    const r = await fetch(`${locked.url}/api/getAppInfo`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
    expect(r.status).toBe(401)
    const ok = await fetch(`${locked.url}/api/getAppInfo`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token-123' },
    })
    expect(ok.status).toBe(200)
  })
  it('answers malformed payloads with a 4xx and a message, and keeps serving', async () => {
    const bad = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"unexpected": 1}' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid input for getAppInfo/)
    const broken = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })
    expect(broken.status).toBe(400)
    const unknown = await fetch(`${open.url}/api/deleteEverything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(unknown.status).toBe(404)
    const again = await fetch(`${open.url}/api/getAppInfo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(again.status).toBe(200)
  })
})
