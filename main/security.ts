/** Security settings of the app window, kept as pure data/functions so they are unit-tested without Electron. */

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

/** In-app navigation is allowed only to the renderer itself (the dev server URL or the packaged file). */
export function isAllowedNavigation(url: string, devServerUrl?: string): boolean {
  if (devServerUrl && url.startsWith(devServerUrl)) return true
  return url.startsWith('file://') && url.includes('/renderer/index.html')
}
