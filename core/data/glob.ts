/**
 * A small file glob (Node 20 has no fs.glob): `*` and `?` within a path segment, `[abc]` / `[a-z]` / `[!x]`
 * classes, and `**` for any number of directories. Results are absolute, de-duplicated and sorted, matching the
 * reference loader's `sorted(glob(pattern))`. Hidden entries are matched like any other.
 */
import fs from 'node:fs'
import path from 'node:path'

export function hasGlobMagic(s: string): boolean {
  return /[*?[]/.test(s)
}

function segmentRegex(seg: string): RegExp {
  let re = '^'
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2)
      if (close < 0) {
        re += '\\['
        continue
      }
      let body = seg.slice(i + 1, close)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      re += '[' + body.replace(/\\/g, '\\\\') + ']'
      i = close
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(re + '$')
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

function isDir(p: string, d: fs.Dirent): boolean {
  if (d.isDirectory()) return true
  if (d.isSymbolicLink()) {
    try {
      return fs.statSync(p).isDirectory()
    } catch {
      return false
    }
  }
  return false
}

/** Expands `pattern` (relative to `cwd`) to the sorted list of matching files (directories are not returned). */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const abs = path.resolve(cwd, pattern)
  if (!hasGlobMagic(abs)) {
    try {
      return fs.statSync(abs).isFile() ? [abs] : []
    } catch {
      return []
    }
  }
  const parts = abs.split(path.sep)
  const first = parts.findIndex((s) => hasGlobMagic(s))
  const base = parts.slice(0, first).join(path.sep) || path.sep
  const rest = parts.slice(first)
  const out = new Set<string>()
  const walk = (dir: string, segs: string[]): void => {
    if (segs.length === 0) return
    const [seg, ...more] = segs as [string, ...string[]]
    if (seg === '**') {
      walk(dir, more) // zero directories
      for (const d of listDir(dir)) {
        const p = path.join(dir, d.name)
        if (isDir(p, d)) walk(p, segs)
      }
      return
    }
    if (!hasGlobMagic(seg)) {
      const p = path.join(dir, seg)
      if (more.length === 0) {
        try {
          if (fs.statSync(p).isFile()) out.add(p)
        } catch {
          /* no match */
        }
      } else walk(p, more)
      return
    }
    const re = segmentRegex(seg)
    for (const d of listDir(dir)) {
      if (!re.test(d.name)) continue
      const p = path.join(dir, d.name)
      if (more.length === 0) {
        if (d.isFile() || (d.isSymbolicLink() && !isDir(p, d))) out.add(p)
      } else if (isDir(p, d)) walk(p, more)
    }
  }
  walk(base, rest)
  return [...out].sort()
}
