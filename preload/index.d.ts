import type { SkipbenchBridge } from '../core/contract/api'

declare global {
  interface Window {
    /** present only inside the Electron app (the preload bridge): the contract's methods and `on` */
    skipbench?: SkipbenchBridge
  }
}
export {}
