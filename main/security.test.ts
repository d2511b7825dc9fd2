import { describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, isAllowedNavigation, secureWindowOptions } from './security.js'

describe('window security', () => {
  it('keeps isolation and sandbox on, node off', () => {
    expect(secureWindowOptions).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false })
  })
  it('has a CSP without unsafe-eval or remote scripts', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval')
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'self';")
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|ws:/)
  })
  it('blocks navigation away from the renderer', () => {
    const at = { fileUrl: 'file:///app/out/renderer/index.html' }
    expect(isAllowedNavigation('https://evil.example/', at)).toBe(false)
    expect(isAllowedNavigation('file:///app/out/renderer/index.html', at)).toBe(true)
    expect(isAllowedNavigation('http://localhost:5173/#/x', { ...at, devServerUrl: 'http://localhost:5173/' })).toBe(true)
    expect(isAllowedNavigation('file:///etc/passwd', at)).toBe(false)
  })
})
