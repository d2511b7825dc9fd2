/** Helpers for the report tests: PDF pages as grey pixels (pdftoppm), PDF text (pdftotext). Poppler's tools only. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface PageStats {
  page: number
  width: number
  height: number
  mean: number
  variance: number
  /** share of pixels darker than 250 (not paper white) */
  inked: number
}

/** Parse a binary PGM (P5, 8-bit). */
function parsePgm(buf: Buffer): { width: number; height: number; pixels: Uint8Array } {
  let pos = 0
  const token = () => {
    while (pos < buf.length) {
      const c = buf[pos]!
      if (c === 0x23) while (pos < buf.length && buf[pos] !== 0x0a) pos++
      else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++
      else break
    }
    const start = pos
    while (pos < buf.length && ![0x20, 0x0a, 0x0d, 0x09].includes(buf[pos]!)) pos++
    return buf.subarray(start, pos).toString('ascii')
  }
  if (token() !== 'P5') throw new Error('not a binary PGM')
  const width = Number(token())
  const height = Number(token())
  const max = Number(token())
  if (max > 255) throw new Error('16-bit PGM not supported')
  pos++ // the single whitespace after maxval
  return { width, height, pixels: new Uint8Array(buf.buffer, buf.byteOffset + pos, width * height) }
}

/** Render every page of a PDF at `dpi` in grey and measure it. */
export function pdfPageStats(pdf: string, dpi = 40): PageStats[] {
  const dir = mkdtempSync(join(tmpdir(), 'skipbench-pdftoppm-'))
  try {
    const r = spawnSync('pdftoppm', ['-r', String(dpi), '-gray', pdf, join(dir, 'p')], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`pdftoppm failed: ${r.stderr}`)
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.pgm'))
      .sort((a, b) => Number(/(\d+)\.pgm$/.exec(a)![1]) - Number(/(\d+)\.pgm$/.exec(b)![1]))
    return files.map((f, i) => {
      const { width, height, pixels } = parsePgm(readFileSync(join(dir, f)))
      let sum = 0
      let sq = 0
      let inked = 0
      for (const p of pixels) {
        sum += p
        sq += p * p
        if (p < 250) inked++
      }
      const n = pixels.length
      const mean = sum / n
      return { page: i + 1, width, height, mean, variance: sq / n - mean * mean, inked: inked / n }
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function pdfText(pdf: string): string {
  const r = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`pdftotext failed: ${r.stderr}`)
  return r.stdout
}

export const hasPoppler = () => spawnSync('pdftoppm', ['-v']).status === 0 && spawnSync('pdftotext', ['-v']).status === 0
