import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'cli/**/*.test.ts', 'tests/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.ts', 'preload/**/*.test.ts'],
    environment: 'node',
    // rebuild the CLI bundle (out/cli) from the current sources first: tests that spawn bin/skipbench.mjs run it
    globalSetup: ['tests/setup/build-cli.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
