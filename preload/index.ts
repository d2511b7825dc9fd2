/**
 * The narrow, typed bridge: exactly the contract's methods, nothing else (no raw ipcRenderer).
 * Sandboxed preload: electron-vite bundles core/contract into this file.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { API_METHODS, channelOf, type SkipbenchApi } from '../core/contract/api.js'

type Reply = { ok: true; value: unknown } | { ok: false; error: string; code: string }

const api = Object.fromEntries(
  API_METHODS.map((m) => [
    m,
    async (input: unknown) => {
      const r = (await ipcRenderer.invoke(channelOf(m), input ?? {})) as Reply
      if (!r.ok) throw new Error(r.error)
      return r.value
    },
  ]),
) as SkipbenchApi

contextBridge.exposeInMainWorld('skipbench', Object.freeze(api))
