/**
 * IPC wiring as a pure function over a minimal ipcMain-like interface, so it is unit-tested without Electron: one
 * handler per contract method (a method without a handler is a compile error in core/service), each validating the
 * sender frame and the payload (core/service dispatch) and answering { ok, value } or { ok: false, error, code }.
 */
import { API_METHODS, channelOf, type ApiHandlers } from '../core/contract/api.js'
import { classify, dispatch } from '../core/service/service.js'
import { isTrustedSender, type IpcSenderLike, type RendererLocation } from './security.js'

export type IpcEventLike = IpcSenderLike

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, payload: unknown) => Promise<unknown>): void
  removeHandler(channel: string): void
}

export type IpcReply = { ok: true; value: unknown } | { ok: false; error: string; code: string }

/**
 * Only the window's own top-level frame showing the renderer may call (main/security.ts isTrustedSender): no
 * sub-frames, no other pages, no main frame that was navigated elsewhere.
 */
export function registerApi(ipc: IpcMainLike, handlers: () => ApiHandlers, renderer: RendererLocation): () => void {
  const isTrusted = (e: IpcEventLike) => isTrustedSender(e, renderer)
  for (const method of API_METHODS) {
    ipc.handle(channelOf(method), async (event, payload): Promise<IpcReply> => {
      if (!isTrusted(event)) return { ok: false, error: 'IPC from an untrusted frame refused', code: 'unauthorized' }
      try {
        return { ok: true, value: await dispatch(handlers(), method, payload) }
      } catch (e) {
        const c = classify(e)
        if (c.code === 'internal') console.error(`skipbench: ${method} failed:`, e)
        return { ok: false, error: c.message, code: c.code }
      }
    })
  }
  return () => API_METHODS.forEach((m) => ipc.removeHandler(channelOf(m)))
}
