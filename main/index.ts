/**
 * Electron main process: lifecycle, the window and IPC wiring only. Every method of the contract is served by
 * core/service after validation (core/service/dispatch); main computes nothing itself.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { API_METHODS, channelOf } from '../core/contract/api.js'
import { createService, dispatch, BadRequest } from '../core/service/service.js'
import { secureWindowOptions, CONTENT_SECURITY_POLICY, isAllowedNavigation } from './security.js'

const here = dirname(fileURLToPath(import.meta.url))

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

function registerApi(dataDir: string): void {
  const service = createService({ transport: 'electron', dataDir })
  for (const method of API_METHODS) {
    ipcMain.handle(channelOf(method), async (event, payload: unknown) => {
      // only our own top-level frame may call (VS Code's validateIPC idea)
      if (!event.senderFrame || event.senderFrame !== event.sender.mainFrame) throw new Error('IPC from a sub-frame refused')
      try {
        return { ok: true, value: await dispatch(service, method, payload) }
      } catch (e) {
        return { ok: false, error: (e as Error).message, code: e instanceof BadRequest ? 'bad_request' : 'internal' }
      }
    })
  }
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    show: false,
    title: 'skipbench',
    webPreferences: { ...secureWindowOptions, preload: join(here, '../preload/index.cjs') },
  })
  win.on('ready-to-show', () => win.show())
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  win.webContents.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url, process.env['ELECTRON_RENDERER_URL'])) e.preventDefault()
  })
  if (process.env['ELECTRON_RENDERER_URL']) void win.loadURL(process.env['ELECTRON_RENDERER_URL'])
  else void win.loadFile(join(here, '../renderer/index.html'))
}

function start(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false))
  registerApi(join(app.getPath('userData'), 'data'))
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
