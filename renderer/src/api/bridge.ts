/**
 * The renderer talks only to this bridge: the preload's `window.skipbench` inside Electron, or the headless
 * server's HTTP API (same origin) in a browser. Both carry the same contract (core/contract).
 */
import { API_METHODS, type ApiMethod, type SkipbenchApi } from '../../../core/contract/api'

function httpBridge(base: string, token: string | null): SkipbenchApi {
  const call = async (method: ApiMethod, input: unknown) => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(input ?? {}),
    })
    const body = (await res.json()) as { value?: unknown; error?: string }
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`)
    return body.value
  }
  return Object.fromEntries(API_METHODS.map((m) => [m, (input: unknown) => call(m, input)])) as SkipbenchApi
}

function tokenFromLocation(): string | null {
  const fromHash = new URLSearchParams(location.hash.split('?')[1] ?? '').get('token')
  const fromQuery = new URLSearchParams(location.search).get('token')
  const t = fromQuery ?? fromHash
  if (t) sessionStorage.setItem('skipbench-token', t)
  return t ?? sessionStorage.getItem('skipbench-token')
}

export const bridge: SkipbenchApi = window.skipbench ?? httpBridge('', tokenFromLocation())
