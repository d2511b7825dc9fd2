/** Terminal rendering for `skipbench train`: a one-line progress bar with ETA, and plain log lines. */
import { fmtDuration } from '../core/report/format.js'

export function formatRate(tokensPerSec: number): string {
  if (tokensPerSec >= 1e6) return `${(tokensPerSec / 1e6).toFixed(2)}M tok/s`
  if (tokensPerSec >= 1e4) return `${(tokensPerSec / 1e3).toFixed(1)}k tok/s`
  return `${Math.round(tokensPerSec)} tok/s`
}

export function progressLine(o: { step: number; total: number; loss: number; lr: number; tokensPerSec: number; etaSeconds: number; zeros?: number | null; columns?: number }): string {
  const frac = o.total > 0 ? Math.min(1, o.step / o.total) : 0
  const pct = `${Math.floor(frac * 100)}`.padStart(3)
  const zeros = o.zeros != null ? ` skip ${(o.zeros * 100).toFixed(1)}%` : ''
  const text = `${pct}% step ${o.step}/${o.total} loss ${o.loss.toFixed(4)} lr ${o.lr.toExponential(2)}${zeros} ${formatRate(o.tokensPerSec)} ETA ${fmtDuration(o.etaSeconds, 'clock')}`
  // the bar takes what the text leaves of the terminal width (up to 24 cells)
  const width = Math.max(0, Math.min(24, (o.columns ?? 120) - 2 - text.length))
  if (width < 5) return text
  const filled = Math.round(frac * width)
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${text}`
}

/** Writes a bar that redraws in place on a TTY; log lines are printed above it. */
export class ProgressBar {
  private last = ''
  constructor(private readonly out: NodeJS.WriteStream) {}
  update(line: string): void {
    const cols = this.out.columns || 120
    this.last = line.length > cols - 1 ? line.slice(0, cols - 1) : line
    this.out.write(`\r\x1b[2K${this.last}`)
  }
  log(line: string): void {
    this.out.write(`\r\x1b[2K${line}\n`)
    if (this.last) this.out.write(this.last)
  }
  done(): void {
    if (this.last) this.out.write('\n')
    this.last = ''
  }
}
