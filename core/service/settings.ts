/** User settings kept in settings.json beside the database (core/paths.ts settingsFileIn): default engine/backend for new runs, training concurrency, allowed folders. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import type { ApiHandlers, Settings } from '../contract/api.js'
import { settingsFileIn } from '../paths.js'
import { BadRequest, conflict } from './errors.js'
import type { ServiceState } from './state.js'

export const StoredSettings = z.object({
  engine: z.enum(['ort', 'tfjs']).nullable().default(null),
  backend: z.string().nullable().default(null),
  concurrency: z.number().int().min(1).max(64).default(1),
  /** folders (absolute) the API may read from and write to besides the data folder (core/service/paths.ts) */
  allowedFolders: z.array(z.string()).default([]),
})
export type StoredSettings = z.output<typeof StoredSettings>

/** The settings in `homeDir` (the database's folder); the defaults when there are none or they do not parse. */
export function loadSettings(homeDir: string): StoredSettings {
  const file = settingsFileIn(homeDir)
  if (!existsSync(file)) return StoredSettings.parse({})
  try {
    const r = StoredSettings.safeParse(JSON.parse(readFileSync(file, 'utf8')))
    return r.success ? r.data : StoredSettings.parse({})
  } catch {
    return StoredSettings.parse({})
  }
}

/** Atomic write (temp file + rename): a crash never leaves half a settings file. */
export function saveSettings(homeDir: string, s: StoredSettings): void {
  const file = settingsFileIn(homeDir)
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n')
  renameSync(tmp, file)
}

export function settingsHandlers(s: ServiceState): Pick<ApiHandlers, 'getSettings' | 'updateSettings'> {
  let note: string | null = null
  const settingsOut = (): Settings => ({
    dataDir: s.ctx.dataDir,
    database: s.ctx.dbPath,
    runsDir: s.ctx.runsDir,
    engine: s.ctx.settings.engine,
    backend: s.ctx.settings.backend,
    concurrency: s.ctx.settings.concurrency,
    allowedFolders: s.ctx.settings.allowedFolders,
    dataDirEditable: s.opts.dataDirEditable ?? false,
    note,
  })
  return {
    async getSettings() {
      return settingsOut()
    },
    async updateSettings(patch) {
      note = null
      if (patch.dataDir !== undefined && resolve(patch.dataDir) !== s.ctx.dataDir) {
        if (!s.opts.dataDirEditable) throw new BadRequest('the data folder of a running server is set when it starts: restart it with `skipbench serve --data-dir DIR`')
        const running = s.ctx.queue.running.length
        if (running) throw conflict(`${running} run(s) are training in ${s.ctx.dataDir}: cancel or wait for them before switching the data folder`)
        await s.switchDataDir(patch.dataDir)
      }
      const next = { ...s.ctx.settings }
      if (patch.engine !== undefined) next.engine = patch.engine
      if (patch.backend !== undefined) next.backend = patch.backend?.trim() || null
      if (patch.concurrency !== undefined) next.concurrency = patch.concurrency
      if (patch.allowedFolders !== undefined) next.allowedFolders = [...new Set(patch.allowedFolders.map((f) => resolve(f)))]
      note = s.ctx.saveSettings(next)
      const out = settingsOut()
      s.ctx.emit({ type: 'settings-changed', settings: out })
      return out
    },
  }
}
