import { defineConfig } from '@playwright/test'

const PORT = Number(process.env['SKIPBENCH_E2E_PORT'] ?? 47613)

// The renderer runs in Debian's Chromium against the real headless server (real database, real training).
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  timeout: 180_000,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'reports/playwright.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: { executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium' },
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `node --import tsx e2e/serve.ts --port ${PORT}`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
  },
})
