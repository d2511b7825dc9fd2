import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { API_METHODS, channelOf } from '../core/contract/api.js'
import { createService, type Service } from '../core/service/service.js'
import { registerApi, type IpcEventLike, type IpcReply } from './ipc.js'

describe('main-process IPC wiring (without Electron)', () => {
  let dir: string
  let svc: Service
  const handlers = new Map<string, (e: IpcEventLike, p: unknown) => Promise<unknown>>()
  const renderer = { fileUrl: 'file:///app/out/renderer/index.html' }
  const frame = { url: 'file:///app/out/renderer/index.html#/runs' }
  const trusted: IpcEventLike = { senderFrame: frame, sender: { mainFrame: frame } }
  const call = (m: string, p: unknown, e: IpcEventLike = trusted) => handlers.get(channelOf(m as never))!(e, p) as Promise<IpcReply>
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-ipc-'))
    svc = await createService({ transport: 'electron', dataDir: dir, overrides: { pickPath: async () => ({ supported: true, paths: ['/x'] }) } })
    registerApi({ handle: (c, fn) => void handlers.set(c, fn), removeHandler: (c) => void handlers.delete(c) }, () => svc.handlers, renderer)
  })
  afterAll(async () => {
    await svc.close()
    rmSync(dir, { recursive: true, force: true })
  })
  it('registers one handler per contract method, nothing else', () => {
    expect([...handlers.keys()].sort()).toEqual(API_METHODS.map(channelOf).sort())
  })
  it('answers valid calls, refuses sub-frames, and reports bad payloads without throwing', async () => {
    expect(await call('getAppInfo', {})).toMatchObject({ ok: true, value: { transport: 'electron' } })
    expect(await call('pickPath', { kind: 'folder' })).toEqual({ ok: true, value: { supported: true, paths: ['/x'] } })
    expect(await call('getAppInfo', {}, { senderFrame: { url: frame.url }, sender: { mainFrame: frame } })).toMatchObject({ ok: false, code: 'unauthorized' })
    const elsewhere = { url: 'https://evil.example/' }
    expect(await call('getAppInfo', {}, { senderFrame: elsewhere, sender: { mainFrame: elsewhere } })).toMatchObject({ ok: false, code: 'unauthorized' })
    const bad = await call('createExperiment', { name: 42 })
    expect(bad).toMatchObject({ ok: false, code: 'bad_request' })
    expect((bad as { error: string }).error).toMatch(/invalid input for createExperiment: name/)
    expect(await call('getRun', { runId: 5 })).toMatchObject({ ok: false, code: 'not_found' })
  })
})
