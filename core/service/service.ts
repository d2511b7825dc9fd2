/**
 * The application service: implements the contract (core/contract) over core/. Both transports (Electron IPC in
 * main/, HTTP in core/server) call exactly this, after validating inputs with the contract's schemas.
 */
import { readFileSync } from 'node:fs'
import type { ApiMethod, SkipbenchApi } from '../contract/api.js'
import { API } from '../contract/api.js'
import { detectEngines } from '../engine/detect.js'
import { listPresetSummaries } from './presets.js'

export interface ServiceOptions {
  transport: 'electron' | 'http'
  /** where databases, datasets and runs live */
  dataDir: string
}

export function appVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export function createService(opts: ServiceOptions): SkipbenchApi {
  return {
    async getAppInfo() {
      return {
        name: 'skipbench' as const,
        version: appVersion(),
        transport: opts.transport,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        engines: await detectEngines(),
      }
    },
    async listPresets() {
      return listPresetSummaries()
    },
  }
}

/** Validate input, call, validate output. Throws BadRequest for invalid input. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BadRequest'
  }
}

export async function dispatch(service: SkipbenchApi, method: ApiMethod, payload: unknown): Promise<unknown> {
  const spec = API[method]
  const parsed = spec.input.safeParse(payload ?? {})
  if (!parsed.success) {
    throw new BadRequest(`invalid input for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  }
  const fn = service[method] as (i: unknown) => Promise<unknown>
  const out = await fn(parsed.data)
  return spec.output.parse(out)
}
