import type { SkipbenchApi } from '../core/contract/api'

declare global {
  interface Window {
    /** present only inside the Electron app (the preload bridge) */
    skipbench?: SkipbenchApi
  }
}
export {}
