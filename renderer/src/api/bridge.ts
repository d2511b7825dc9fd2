/**
 * The renderer talks only to this bridge: the preload's `window.skipbench` inside Electron, or the headless
 * server's HTTP API (same origin) and its WebSocket event stream in a browser. Both carry the same contract.
 */
import { shallowRef } from 'vue'
import {
  API_METHODS,
  EVENTS_PATH,
  isEventType,
  ServerEvent,
  WS_PROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  type ApiMethod,
  type EventSubscribe,
  type SkipbenchApi,
  type SkipbenchBridge,
} from '../../../core/contract/api'

class ApiCallError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ApiCallError'
  }
}

/** Whether the event stream is connected (the browser bridge reconnects with backoff; views reload on reconnect). */
export const connection = shallowRef<{ connected: boolean; generation: number }>({ connected: false, generation: 0 })

function tokenFromLocation(): string | null {
  const fromQuery = new URLSearchParams(location.search).get('token')
  const fromHash = new URLSearchParams(location.hash.split('?')[1] ?? '').get('token')
  const t = fromQuery ?? fromHash
  if (t) {
    sessionStorage.setItem('skipbench-token', t)
    // keep the token out of the address bar (and out of screenshots and history)
    if (fromQuery) history.replaceState(null, '', location.pathname + location.hash)
  }
  return t ?? sessionStorage.getItem('skipbench-token')
}

function httpBridge(base: string, token: string | null): SkipbenchBridge {
  const call = async (method: ApiMethod, input: unknown) => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(input ?? {}),
    })
    let body: { value?: unknown; error?: string; code?: string }
    try {
      body = (await res.json()) as typeof body
    } catch {
      throw new ApiCallError(`HTTP ${res.status} from ${method}`, 'internal', res.status)
    }
    if (!res.ok) throw new ApiCallError(body.error ?? `HTTP ${res.status}`, body.code ?? 'internal', res.status)
    return body.value
  }
  const api = Object.fromEntries(API_METHODS.map((m) => [m, (input: unknown) => call(m, input)])) as SkipbenchApi

  const listeners = new Set<(e: ServerEvent) => void>()
  let ws: WebSocket | null = null
  let retry = 0
  const connect = () => {
    if (ws) return
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${EVENTS_PATH}`
    const socket = new WebSocket(url, token ? [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`] : [WS_PROTOCOL])
    ws = socket
    socket.onopen = () => {
      retry = 0
      connection.value = { connected: true, generation: connection.value.generation + 1 }
    }
    socket.onmessage = (m) => {
      let raw: unknown
      try {
        raw = JSON.parse(String(m.data))
      } catch {
        return
      }
      const r = ServerEvent.safeParse(raw)
      if (!r.success) return // 'hello' and anything from a newer server
      for (const cb of [...listeners]) cb(r.data)
    }
    socket.onclose = () => {
      ws = null
      connection.value = { connected: false, generation: connection.value.generation }
      const delay = Math.min(10_000, 250 * 2 ** retry++)
      setTimeout(connect, delay)
    }
  }
  const on: EventSubscribe = (type, cb) => {
    if (!isEventType(type)) throw new TypeError(`unknown event type ${String(type)}`)
    const l = (e: ServerEvent) => {
      if (type === '*' || e.type === type) (cb as (e: ServerEvent) => void)(e)
    }
    listeners.add(l)
    connect()
    // the socket stays open when the last listener leaves: the next page subscribes at once, and no event falls
    // into a reconnect gap between two pages
    return () => void listeners.delete(l)
  }
  return { ...api, on }
}

function electronBridge(b: SkipbenchBridge): SkipbenchBridge {
  connection.value = { connected: true, generation: 1 }
  return b
}

export const bridge: SkipbenchBridge = window.skipbench ? electronBridge(window.skipbench) : httpBridge('', tokenFromLocation())
export const isElectron = !!window.skipbench
