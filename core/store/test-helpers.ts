/** Helpers for the store's and the job runner's tests: real database files in fresh temporary folders. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  path: string
  file(name: string): string
  cleanup(): void
}

export function tempDir(prefix = 'skipbench-store-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, file: (name) => join(path, name), cleanup: () => rmSync(path, { recursive: true, force: true }) }
}
