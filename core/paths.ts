/**
 * Where skipbench's own files are: the package root (package.json, out/renderer, the shipped data), found the same
 * way from the TypeScript sources (core/…) and from the CLI bundle (out/cli/…).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/** The folder holding skipbench's package.json (searched upwards from this module). */
function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'skipbench') return (root = dir)
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir)
    if (up === dir) throw new Error(`cannot find skipbench's package.json above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
}

/** A path inside the package ("package.json", "out/renderer"). */
export const packageFile = (rel: string): string => join(packageRoot(), rel)
