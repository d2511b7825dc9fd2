/**
 * Human-readable progress lines and summaries for imports (CLI and logs).
 */
import { fmtDuration } from '../../report/format.js'
import type { ImportProgress, ImportSummary } from './types.js'

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`
  return String(n)
}

/** Milliseconds as a clock, "m:ss" or "h:mm:ss" (core/report's one duration formatter). */
const clock = (ms: number): string => fmtDuration(ms / 1000, 'clock')

/** e.g. "42.1 MB / 100.0 MB (42%) · 12.3 k docs · 9.80 M tokens · 5.2 MB/s · 1.10 M tok/s · ETA 0:12" */
export function formatProgress(p: ImportProgress): string {
  const parts: string[] = []
  parts.push(p.bytesTotal ? `${mb(p.bytesRead)} / ${mb(p.bytesTotal)} (${Math.floor((100 * p.bytesRead) / Math.max(1, p.bytesTotal))}%)` : mb(p.bytesRead))
  parts.push(`${count(p.docs)} docs`, `${count(p.tokens)} tokens`)
  if (p.skipped) parts.push(`${count(p.skipped)} skipped`)
  parts.push(`${p.mbPerSec.toFixed(1)} MB/s`, `${count(Math.round(p.tokensPerSec))} tok/s`)
  if (p.phase === 'done') parts.push(`done in ${clock(p.elapsedMs)}`)
  else if (p.etaMs !== null) parts.push(`ETA ${clock(p.etaMs)}`)
  return parts.join(' · ')
}

/** A few lines: what was read, written and skipped, and why. */
export function formatSummary(s: ImportSummary): string {
  const lines = [
    `${s.format}: ${s.files} file(s)${s.filesIgnored ? ` (+${s.filesIgnored} ignored)` : ''}, ${mb(s.bytesRead)} read, ${s.docsWritten} of ${s.docsSeen} documents, ${count(s.tokens)} tokens`,
    `${clock(s.durationMs)} with ${s.workers || 'no'} worker thread(s): ${s.mbPerSec.toFixed(1)} MB/s, ${count(Math.round(s.tokensPerSec))} tokens/s`,
  ]
  const skipped = Object.entries(s.skipped).filter(([, v]) => v > 0)
  if (skipped.length) lines.push(`skipped: ${skipped.map(([k, v]) => `${v} ${k}`).join(', ')}`)
  if (s.utf8Replaced) lines.push(`${s.utf8Replaced} document(s) kept with invalid UTF-8 replaced by U+FFFD`)
  if (s.docsChunked) lines.push(`${s.docsChunked} over-long document(s) stored in chunks`)
  if (s.longRunsSplit) lines.push(`${s.longRunsSplit} over-long character run(s) cut before BPE`)
  for (const e of s.skippedExamples.slice(0, 5)) lines.push(`  e.g. ${e.reason}: ${e.where}${e.detail ? ` (${e.detail})` : ''}`)
  for (const w of s.warnings) lines.push(`warning: ${w}`)
  return lines.join('\n')
}
