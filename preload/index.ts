/**
 * The narrow, typed bridge: exactly the contract's methods and `on(event, cb) → unsubscribe`, nothing else (no raw
 * ipcRenderer). Sandboxed preload: electron-vite bundles core/contract into this file (CommonJS).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { EVENT_CHANNEL, ServerEvent } from '../core/contract/api.js'
import { buildBridge, type Reply } from './bridge.js'

const listeners = new Set<(e: ServerEvent) => void>()
ipcRenderer.on(EVENT_CHANNEL, (_event, payload: unknown) => {
  const r = ServerEvent.safeParse(payload)
  if (!r.success) return
  for (const cb of [...listeners]) cb(r.data)
})

const bridge = buildBridge({
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload) as Promise<Reply>,
  subscribe(listener) {
    listeners.add(listener)
    return () => void listeners.delete(listener)
  },
})

contextBridge.exposeInMainWorld('skipbench', bridge)
