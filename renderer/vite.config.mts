// The renderer alone, for the browser: `npm run dev:web` (dev server; /api proxied to `skipbench serve` on 4719)
// and the e2e build (`vite build --config renderer/vite.config.mts`, same output as electron-vite's renderer).
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [vue()],
  resolve: { alias: { '@renderer': here('./src') } },
  build: { outDir: here('../out/renderer'), emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  server: {
    port: 5173,
    proxy: { '/api': { target: `http://127.0.0.1:${process.env.SKIPBENCH_PORT ?? 4719}`, ws: true } },
  },
})
