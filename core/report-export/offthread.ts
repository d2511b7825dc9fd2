/**
 * Heavy report work off the calling thread (issue 12): `skipbench serve` and the app answer every request on one
 * event loop, and a preview of thousands of runs takes seconds of CPU. previewReportOffThread builds it in a worker
 * thread (preview-worker.ts, its own read-only connection: WAL readers see committed data and never block the
 * writer), so other requests are answered meanwhile.
 *
 * From TypeScript sources (tsx, vitest) the worker registers tsx's loader by absolute path; from built JavaScript
 * it starts preview-worker.js beside this file. Where neither exists (a bundle that did not emit the worker entry)
 * it returns null and the caller builds the preview inline, as before.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ReportOptions } from './build.js'

function workerUrl(): URL | null {
  const self = import.meta.url
  const ts = self.endsWith('.ts') || self.endsWith('.mts')
  const url = new URL(`./preview-worker.${ts ? 'ts' : 'js'}`, self)
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null
}

/** tsx's ESM register API (the `import` condition of its "./esm/api" export), by absolute path: works from any cwd. */
function tsxEsmApi(): string {
  const pkgJson = createRequire(import.meta.url).resolve('tsx/package.json')
  const exp = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!
  return join(dirname(pkgJson), exp.import.default)
}

/** Build the preview HTML in a worker thread; null when no worker entry is available (then build it inline). */
export function previewReportOffThread(dbPath: string, options: ReportOptions, nativeBinding?: string): Promise<string> | null {
  const url = workerUrl()
  if (!url) return null
  const workerData = { dbPath, options, ...(nativeBinding ? { nativeBinding } : {}) }
  let worker: Worker
  if (url.pathname.endsWith('.ts')) {
    const tsxApi = pathToFileURL(tsxEsmApi()).href
    const boot =
      `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}) })` +
      `.catch((e) => require('node:worker_threads').parentPort.postMessage({ ok: false, name: 'Error', message: String((e && e.stack) || e) }))`
    worker = new Worker(boot, { eval: true, workerData })
  } else worker = new Worker(url, { workerData })
  return new Promise<string>((resolve, reject) => {
    let settled = false
    worker.once('message', (m: { ok: true; html: string } | { ok: false; name: string; message: string; userError?: boolean }) => {
      settled = true
      if (m.ok) resolve(m.html)
      else reject(Object.assign(new Error(m.message), { name: m.name, userError: m.userError === true }))
      void worker.terminate()
    })
    worker.once('error', (e) => {
      if (!settled) reject(e)
      settled = true
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the report worker thread exited with code ${code} before answering`))
      settled = true
    })
  })
}
