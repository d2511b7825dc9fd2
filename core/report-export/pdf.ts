/**
 * HTML → PDF through a locally installed Chromium (no download): playwright-core's `chromium.launch({
 * executablePath })` + `page.pdf()` when playwright-core is importable (one browser for many documents), else the
 * Chromium command line (`--headless --print-to-pdf`). The page size comes from the document's CSS `@page` rule, so
 * the same function prints the A4 report and each SVG figure at its own size (for LaTeX).
 *
 * Chromium is found at $SKIPBENCH_CHROMIUM, then /usr/bin/chromium, chromium-browser, google-chrome(-stable).
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UserError } from '../user-errors.js'

export class ChromiumMissingError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'ChromiumMissingError'
  }
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium']

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK)
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/** The Chromium executable to print with, or null. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env.SKIPBENCH_CHROMIUM
  if (fromEnv) return executable(fromEnv) ? fromEnv : null
  return CANDIDATES.find(executable) ?? null
}

export function requireChromium(explicit?: string): string {
  const p = explicit ?? findChromium()
  if (p && executable(p)) return p
  throw new ChromiumMissingError(
    `PDF output needs Chromium${explicit || process.env.SKIPBENCH_CHROMIUM ? ` (not executable: ${explicit ?? process.env.SKIPBENCH_CHROMIUM})` : ''}: ` +
      'install it (Debian/Ubuntu: apt install chromium) or point $SKIPBENCH_CHROMIUM at a Chromium/Chrome binary; ' +
      'the HTML report prints to the same PDF from any browser.',
  )
}

export interface PdfJob {
  html: string
  out: string
}

export type PdfMethod = 'playwright' | 'chromium-cli'

export interface PrintOptions {
  chromium?: string
  /** force a method (tests); default: playwright when importable, else the command line */
  method?: PdfMethod
  timeoutMs?: number
}

/** A page that prints one SVG at exactly its size (a vector PDF figure). */
export function svgPage(svg: string, width: number, height: number): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><style>@page { size: ${width}px ${height}px; margin: 0 } html, body { margin: 0; padding: 0; } svg { display: block; width: ${width}px; height: ${height}px; }</style></head><body>${svg}</body></html>`
}

type PlaywrightCore = typeof import('playwright-core')

async function loadPlaywright(): Promise<PlaywrightCore | null> {
  try {
    return (await import('playwright-core')) as PlaywrightCore
  } catch {
    return null
  }
}

async function printWithPlaywright(pw: PlaywrightCore, chromium: string, jobs: PdfJob[], timeoutMs: number, dir: string): Promise<void> {
  const browser = await pw.chromium.launch({ executablePath: chromium, headless: true, timeout: timeoutMs, args: ['--disable-gpu', '--no-first-run'] })
  try {
    const page = await browser.newPage({ javaScriptEnabled: false })
    for (const [i, job] of jobs.entries()) {
      // through a file: the document's own CSP applies and nothing is fetched
      const file = join(dir, `page-${i}.html`)
      writeFileSync(file, job.html)
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: timeoutMs })
      await page.pdf({ path: job.out, preferCSSPageSize: true, printBackground: true })
    }
  } finally {
    await browser.close()
  }
}

function runChromium(chromium: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)))
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('error', (e) => {
      clearTimeout(t)
      reject(e)
    })
    p.on('close', (code) => {
      clearTimeout(t)
      if (code === 0) resolve()
      else reject(new Error(`chromium exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}

async function printWithCli(chromium: string, jobs: PdfJob[], timeoutMs: number, dir: string): Promise<void> {
  for (const [i, job] of jobs.entries()) {
    const file = join(dir, `page-${i}.html`)
    writeFileSync(file, job.html)
    await runChromium(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--no-pdf-header-footer', '--run-all-compositor-stages-before-draw', `--print-to-pdf=${job.out}`, pathToFileURL(file).href],
      timeoutMs,
    )
  }
}

/** Print HTML documents to PDF files. Throws ChromiumMissingError when no Chromium is installed. */
export async function printPdfs(jobs: PdfJob[], o: PrintOptions = {}): Promise<{ method: PdfMethod; chromium: string }> {
  const chromium = requireChromium(o.chromium)
  const timeoutMs = o.timeoutMs ?? 60_000
  const dir = mkdtempSync(join(tmpdir(), 'skipbench-pdf-'))
  try {
    if (o.method !== 'chromium-cli') {
      const pw = await loadPlaywright()
      if (pw) {
        await printWithPlaywright(pw, chromium, jobs, timeoutMs, dir)
        return { method: 'playwright', chromium }
      }
      if (o.method === 'playwright') throw new Error('playwright-core is not installed')
    }
    await printWithCli(chromium, jobs, timeoutMs, dir)
    return { method: 'chromium-cli', chromium }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
