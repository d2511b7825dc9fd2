/** What the app is: name, version, transport, Node, platform and engines; and the shipped presets. */
import type { ApiHandlers } from '../contract/api.js'
import { detectEngines } from '../engine/detect.js'
import { packageVersion } from '../paths.js'
import { listPresetSummaries } from './presets.js'
import type { ServiceState } from './state.js'

export function appHandlers(s: ServiceState): Pick<ApiHandlers, 'getAppInfo' | 'listPresets'> {
  return {
    async getAppInfo() {
      return {
        name: 'skipbench' as const,
        version: packageVersion(),
        transport: s.opts.transport,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        engines: await detectEngines(),
      }
    },
    listPresets: () => listPresetSummaries(),
  }
}
