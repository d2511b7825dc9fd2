/**
 * The bridge object the preload exposes as `window.skipbench`: exactly the contract's methods plus `on`, built from
 * two injected functions so it is unit-tested without Electron (preload/bridge.test.ts checks the key set against
 * API_METHODS). Raw ipcRenderer never reaches the page.
 */
import { API_METHODS, channelOf, isEventType, type ServerEvent, type SkipbenchBridge } from '../core/contract/api.js'

export type Reply = { ok: true; value: unknown } | { ok: false; error: string; code: string }

/** invoke(channel, payload) → the main process' reply; subscribe(listener) → unsubscribe */
export interface BridgeTransport {
  invoke(channel: string, payload: unknown): Promise<Reply>
  subscribe(listener: (e: ServerEvent) => void): () => void
}

class BridgeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
    this.name = 'BridgeError'
  }
}

export function buildBridge(t: BridgeTransport): SkipbenchBridge {
  const api: Record<string, unknown> = {}
  for (const m of API_METHODS) {
    api[m] = async (input: unknown) => {
      const r = await t.invoke(channelOf(m), input ?? {})
      if (!r || typeof r !== 'object' || !('ok' in r)) throw new BridgeError(`malformed reply to ${m}`, 'internal')
      if (!r.ok) throw new BridgeError(r.error, r.code)
      return r.value
    }
  }
  api.on = (type: unknown, cb: unknown) => {
    if (!isEventType(type)) throw new TypeError(`unknown event type ${JSON.stringify(type)}`)
    if (typeof cb !== 'function') throw new TypeError('on(type, callback): the callback must be a function')
    return t.subscribe((e) => {
      if (type === '*' || e.type === type) (cb as (e: ServerEvent) => void)(e)
    })
  }
  return Object.freeze(api) as SkipbenchBridge
}
