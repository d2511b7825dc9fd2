/** Formatting for tables and headers (pure; unit-tested in format.test.ts). */
import { fmtFlops } from '../../../core/report/charts'
import { fmtDuration as fmtDurationIn } from '../../../core/report/format'

export { fmtFlops }

export function fmtNum(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–'
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-3)) return x.toExponential(2)
  return String(+x.toFixed(digits))
}

/** 1234567 → "1.23M" */
export function fmtCount(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–'
  const a = Math.abs(x)
  if (a >= 1e12) return `${+(x / 1e12).toFixed(2)}T`
  if (a >= 1e9) return `${+(x / 1e9).toFixed(2)}B`
  if (a >= 1e6) return `${+(x / 1e6).toFixed(2)}M`
  if (a >= 1e4) return `${+(x / 1e3).toFixed(1)}k`
  return String(Math.round(x))
}

/** seconds → "1h 02m", "3m 05s", "42s", "<1s" (core/report's one duration formatter, 'short') */
export const fmtDuration = (seconds: number | null | undefined): string => fmtDurationIn(seconds, 'short')

export function fmtBytes(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = x
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`
}

/** ISO time → "2026-11-29 14:03" (local), "" for null */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** progress 0..1 of a run row (completed → 1) */
export function progressOf(r: { status: string; lastStep: number; totalSteps: number | null }): number {
  if (r.status === 'completed') return 1
  if (!r.totalSteps) return 0
  return Math.max(0, Math.min(1, r.lastStep / r.totalSteps))
}

export const STATUS_COLORS: Record<string, string> = {
  queued: '#6c737c',
  running: '#1971c2',
  paused: '#9c5d00',
  completed: '#2b7a38',
  failed: '#c92a2a',
  cancelled: '#862e9c',
  interrupted: '#c2410c',
  cancelling: '#862e9c',
  pausing: '#9c5d00',
}
