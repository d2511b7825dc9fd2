// Unit tests of the renderer's pure logic and of the preload bridge (node environment; no DOM needed).
// The root vitest.config.mts lists core/, cli/, tests/ and main/; these run with
//   npx vitest run --config renderer/vitest.config.mts
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['renderer/**/*.test.ts', 'preload/**/*.test.ts'],
    environment: 'node',
  },
})
