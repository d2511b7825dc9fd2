/** What the app is: name, version, transport, Node, platform and engines; and the shipped presets. */
import { readFileSync } from 'node:fs'
import type { ApiHandlers } from '../contract/api.js'
import { detectEngines } from '../engine/detect.js'
import { packageFile } from '../paths.js'
import { listPresetSummaries } from './presets.js'
import type { ServiceState } from './state.js'

function appVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
  return pkg.version
}

export function appHandlers(s: ServiceState): Pick<ApiHandlers, 'getAppInfo' | 'listPresets'> {
  return {
    async getAppInfo() {
      return {
        name: 'skipbench' as const,
        version: appVersion(),
        transport: s.opts.transport,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        engines: await detectEngines(),
      }
    },
    listPresets: () => listPresetSummaries(),
  }
}
