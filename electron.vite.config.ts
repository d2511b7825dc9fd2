import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

/**
 * `npm run web` builds before it prints the URL: keep that output to what matters. Third-party bundles' direct
 * `eval` (playwright-core, used for PDF reports) and the bundler's plugin-timing report are noise there.
 */
const quiet = {
  checks: { pluginTimings: false },
  onwarn(w: { code?: string; id?: string; loc?: { file?: string } }, warn: (w: never) => void) {
    if (w.code === 'EVAL' && /node_modules/.test(w.id ?? w.loc?.file ?? '')) return
    warn(w as never)
  },
}

// Top-level layout fixed by the product design: main/, preload/, renderer/ (not electron-vite's src/*).
// core/ is bundled into main and (the contract only) into preload and renderer.
export default defineConfig({
  main: {
    build: {
      lib: { entry: resolve(__dirname, 'main/index.ts') },
      // native modules (better-sqlite3, onnxruntime-node) stay external: package.json dependencies
      externalizeDeps: true,
      rolldownOptions: quiet,
    },
  },
  preload: {
    build: {
      // sandboxed preloads must be CommonJS
      lib: { entry: resolve(__dirname, 'preload/index.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
      externalizeDeps: { exclude: ['zod'] },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: { rolldownOptions: { ...quiet, input: resolve(__dirname, 'renderer/index.html') } },
    resolve: { alias: { '@renderer': resolve(__dirname, 'renderer/src') } },
    plugins: [vue()],
  },
})
