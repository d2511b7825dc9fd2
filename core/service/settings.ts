/** User settings kept in `<dataDir>/settings.json`: default engine/backend for new runs, training concurrency, allowed folders. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { z } from 'zod'

export const StoredSettings = z.object({
  engine: z.enum(['ort', 'tfjs']).nullable().default(null),
  backend: z.string().nullable().default(null),
  concurrency: z.number().int().min(1).max(64).default(1),
  /** folders (absolute) the API may read from and write to besides the data folder (core/service/paths.ts) */
  allowedFolders: z.array(z.string()).default([]),
})
export type StoredSettings = z.output<typeof StoredSettings>

export const SETTINGS_FILE = 'settings.json'

export function loadSettings(dataDir: string): StoredSettings {
  const file = join(dataDir, SETTINGS_FILE)
  if (!existsSync(file)) return StoredSettings.parse({})
  try {
    const r = StoredSettings.safeParse(JSON.parse(readFileSync(file, 'utf8')))
    return r.success ? r.data : StoredSettings.parse({})
  } catch {
    return StoredSettings.parse({})
  }
}

/** Atomic write (temp file + rename): a crash never leaves half a settings file. */
export function saveSettings(dataDir: string, s: StoredSettings): void {
  const file = join(dataDir, SETTINGS_FILE)
  mkdirSync(dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n')
  renameSync(tmp, file)
}
