/**
 * Worker-thread entry of previewReportOffThread (offthread.ts): opens the database read-only, builds the preview
 * HTML, posts it back. A separate connection in a separate thread: the server's event loop stays free meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../store/store.js'
import type { ReportOptions } from './build.js'
import { previewReportHtml } from './index.js'
import { isUserError } from '../user-errors.js'

const { dbPath, nativeBinding, options } = workerData as { dbPath: string; nativeBinding?: string; options: ReportOptions }
try {
  const store = openStore(dbPath, { readonly: true, ...(nativeBinding ? { nativeBinding } : {}) })
  try {
    parentPort!.postMessage({ ok: true, html: previewReportHtml(store, options) })
  } finally {
    store.close()
  }
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e))
  parentPort!.postMessage({ ok: false, name: err.name, message: err.message, userError: isUserError(err) })
}
