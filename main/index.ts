/**
 * Electron main process: lifecycle, the window, IPC wiring and native dialogs only. Every method of the contract is
 * served by core/service after validation (main/ipc.ts); events go to the window on one channel. Training runs in
 * separate Node processes (ADR 0003): the worker runs the TypeScript sources under Electron-as-Node with tsx, so the
 * app process never loads onnxruntime.
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EVENT_CHANNEL, type ServerEvent } from '../core/contract/api.js'
import { forkLauncher } from '../core/jobs/process.js'
import { createService, type Service } from '../core/service/service.js'
import { registerApi } from './ipc.js'
import { allowNavigation, CONTENT_SECURITY_POLICY, rendererFileUrl, secureWindowOptions, type RendererLocation } from './security.js'

const here = dirname(fileURLToPath(import.meta.url))
// tests (and side-by-side installs) isolate the app's profile: settings, the data-folder choice, the single-instance lock
if (process.env['SKIPBENCH_USER_DATA']) app.setPath('userData', resolve(process.env['SKIPBENCH_USER_DATA']))
/** the repository (out/main/index.js → ../..): worker sources and node_modules live there */
const root = resolve(here, '../..')
/** the one page the window may show and the only sender IPC trusts (main/security.ts) */
const renderer: RendererLocation = {
  fileUrl: rendererFileUrl(join(here, '../renderer/index.html')),
  ...(process.env['ELECTRON_RENDERER_URL'] ? { devServerUrl: process.env['ELECTRON_RENDERER_URL'] } : {}),
}
let service: Service | null = null

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    const [w] = BrowserWindow.getAllWindows()
    if (w) {
      if (w.isMinimized()) w.restore()
      w.focus()
    }
  })
  void app.whenReady().then(start)
}

/** The data folder: chosen in Settings (remembered in userData/skipbench.json), default userData/data. */
function prefsFile(): string {
  return join(app.getPath('userData'), 'skipbench.json')
}
function dataDirPreference(): string {
  try {
    const p = JSON.parse(readFileSync(prefsFile(), 'utf8')) as { dataDir?: unknown }
    if (typeof p.dataDir === 'string' && p.dataDir) return p.dataDir
  } catch {
    /* first start */
  }
  return process.env['SKIPBENCH_DATA_DIR'] ?? join(app.getPath('userData'), 'data')
}
function rememberDataDir(dir: string): void {
  mkdirSync(dirname(prefsFile()), { recursive: true })
  writeFileSync(prefsFile(), JSON.stringify({ dataDir: dir }, null, 2))
}

function broadcast(e: ServerEvent): void {
  for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e)
}

async function openService(): Promise<Service> {
  const workerEntry = join(root, 'core/jobs/worker-entry.ts')
  const native = process.env['SKIPBENCH_SQLITE_BINDING']
  return createService({
    transport: 'electron',
    dataDir: dataDirPreference(),
    dataDirEditable: true,
    onDataDirChange: rememberDataDir,
    ...(native && existsSync(native) ? { nativeBinding: native } : {}),
    // the Electron binary as plain Node (ELECTRON_RUN_AS_NODE) runs the worker from sources with tsx
    launcher: forkLauncher({ entry: workerEntry }),
    workerEnv: { ELECTRON_RUN_AS_NODE: '1' },
    overrides: {
      async pickPath({ kind, title, multiple }) {
        const w = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]
        const props: ('openFile' | 'openDirectory' | 'multiSelections')[] = [kind === 'folder' ? 'openDirectory' : 'openFile']
        if (multiple) props.push('multiSelections')
        const opts = { title: title ?? (kind === 'folder' ? 'Choose a folder' : 'Choose a file'), properties: props }
        const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts)
        return { supported: true, paths: r.canceled ? [] : r.filePaths }
      },
    },
  })
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1360,
    height: 880,
    show: false,
    title: 'skipbench',
    icon: join(root, 'resources/icon-256.png'), // resources/: icon.svg, PNGs (scripts/make-icons.mjs), skipbench.desktop
    webPreferences: { ...secureWindowOptions, preload: join(here, '../preload/index.cjs') },
  })
  win.on('ready-to-show', () => win.show())
  if (process.env['ELECTRON_RENDERER_URL']) void win.loadURL(process.env['ELECTRON_RENDERER_URL'])
  else void win.loadFile(join(here, '../renderer/index.html'))
}

async function start(): Promise<void> {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false))
  // every web contents (including any a bug might create): no new windows, no navigation away, no webviews
  app.on('web-contents-created', (_e, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url)
      return { action: 'deny' }
    })
    contents.on('will-navigate', (e) => {
      if (!allowNavigation('navigate', e.url, e.isMainFrame, renderer)) e.preventDefault()
    })
    contents.on('will-frame-navigate', (e) => {
      if (!allowNavigation('frame-navigate', e.url, e.isMainFrame, renderer)) e.preventDefault()
    })
    contents.on('will-redirect', (e) => {
      if (!allowNavigation('redirect', e.url, e.isMainFrame, renderer)) e.preventDefault()
    })
    contents.on('will-attach-webview', (e) => e.preventDefault())
  })
  try {
    service = await openService()
  } catch (e) {
    dialog.showErrorBox('skipbench cannot open its data folder', `${(e as Error).message}\n\nData folder: ${dataDirPreference()}`)
    app.quit()
    return
  }
  service.on(broadcast)
  registerApi(ipcMain, () => service!.handlers, renderer)
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
}

let quitting = false
app.on('before-quit', (e) => {
  // running jobs checkpoint and pause before the app exits (resumable from the Run page)
  if (!service || quitting) return
  e.preventDefault()
  quitting = true
  void service.close().finally(() => app.quit())
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
