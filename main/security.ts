/** Security settings of the app window, kept as pure data/functions so they are unit-tested without Electron. */
import { pathToFileURL } from 'node:url'

export const secureWindowOptions = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webviewTag: false,
  spellcheck: false,
} as const

/** Strict CSP: our own scripts only; ECharts needs inline styles; data: for images exported from canvas. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  // the desktop renderer talks to main over IPC only: no network at all
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ')

/** Where the renderer may live: the packaged page's exact file URL, or (development) the dev server's origin. */
export interface RendererLocation {
  /** file:///…/out/renderer/index.html, exactly */
  fileUrl: string
  /** ELECTRON_RENDERER_URL in development */
  devServerUrl?: string
}

/** The packaged renderer page as a file URL (the same string Electron reports for it). */
export function rendererFileUrl(indexHtmlPath: string): string {
  return pathToFileURL(indexHtmlPath).href
}

/**
 * Whether `url` is the renderer itself: the exact file URL of its index.html (a #/route fragment allowed, no query),
 * or a page of the dev server's origin. A comparison of whole parsed URLs, not substrings: a file URL that merely
 * contains "/renderer/index.html" (another app's, a download's) is refused.
 */
export function isAllowedNavigation(url: string, where: RendererLocation): boolean {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return false
  }
  if (u.username || u.password) return false
  if (where.devServerUrl) {
    try {
      const dev = new URL(where.devServerUrl)
      if (u.origin === dev.origin && (u.protocol === 'http:' || u.protocol === 'https:')) return true
    } catch {
      /* a malformed dev URL allows nothing */
    }
  }
  if (u.protocol !== 'file:' || u.search) return false
  const bare = `${u.protocol}//${u.host}${u.pathname}`
  return bare === new URL(where.fileUrl).href
}

/**
 * Navigation of any kind (will-navigate, will-frame-navigate, will-redirect): the main frame may only (re)load the
 * renderer; sub-frames may only hold inline documents (the report preview is a sandboxed srcdoc iframe); redirects
 * are never followed (the renderer loads nothing that redirects).
 */
export function allowNavigation(kind: 'navigate' | 'frame-navigate' | 'redirect', url: string, isMainFrame: boolean, where: RendererLocation): boolean {
  if (kind === 'redirect') return false
  if (!isMainFrame) return url === 'about:srcdoc' || url === 'about:blank'
  return isAllowedNavigation(url, where)
}

export interface IpcSenderLike {
  senderFrame: { url: string } | null | undefined
  sender: { mainFrame: unknown }
}

/**
 * IPC may come only from the window's own top-level frame showing the renderer (VS Code's validateIPC idea): not a
 * sub-frame, and not a main frame that navigated elsewhere.
 */
export function isTrustedSender(e: IpcSenderLike, where: RendererLocation): boolean {
  const f = e.senderFrame
  if (!f || f !== e.sender.mainFrame) return false
  return isAllowedNavigation(f.url, where)
}
