/**
 * The application service: implements the contract (core/contract) over core/. Both transports (Electron IPC in
 * main/, HTTP + WebSocket in core/server) call exactly this, after validating inputs with the contract's schemas
 * (`dispatch`), and forward its events (`on`).
 *
 * Each area is its own module with a small factory over the shared state (core/service/state.ts); this file only
 * composes them: app info and presets (app-info.ts), experiments (experiments.ts), runs (runs.ts), the tracker's
 * views and parallel coordinates (tracker.ts), configs, sweeps and launching (launch.ts), comparisons and reports
 * (reports.ts), datasets (datasets.ts), Slurm clusters (clusters.ts) and settings (settings.ts).
 */
import type { ApiHandlers, ApiMethod, ServerEvent } from '../contract/api.js'
import { API } from '../contract/api.js'
import { appHandlers } from './app-info.js'
import { clusterHandlers } from './clusters.js'
import { datasetHandlers } from './datasets.js'
import { BadRequest, classify, ServiceError } from './errors.js'
import { experimentHandlers } from './experiments.js'
import { launchHandlers } from './launch.js'
import { reportHandlers } from './reports.js'
import { runHandlers } from './runs.js'
import { settingsHandlers } from './settings.js'
import { ServiceState, type ServiceOptions } from './state.js'
import { trackerHandlers } from './tracker.js'

export { BadRequest, classify, ServiceError } from './errors.js'

export interface Service {
  readonly handlers: ApiHandlers
  /** every ServerEvent; returns the unsubscribe function */
  on(cb: (e: ServerEvent) => void): () => void
  readonly dataDir: string
  /** the first-start calibration of the current data folder (settled at once when none was needed or enabled) */
  calibration(): Promise<void>
  close(): Promise<void>
}

export async function createService(opts: ServiceOptions): Promise<Service> {
  const s = await ServiceState.open(opts)
  const handlers: ApiHandlers = {
    ...appHandlers(s),
    ...experimentHandlers(s),
    ...runHandlers(s),
    ...trackerHandlers(s),
    ...launchHandlers(s),
    ...reportHandlers(s),
    ...datasetHandlers(s),
    ...clusterHandlers(s),
    ...settingsHandlers(s),
    async pickPath() {
      return { supported: false, paths: [] }
    },
    ...opts.overrides,
    // what the user picks in a native dialog (the app) may then be read and written
    ...(opts.overrides?.pickPath
      ? {
          async pickPath(input) {
            const r = await opts.overrides!.pickPath!(input)
            s.paths.allowPicked(r.paths)
            return r
          },
        }
      : {}),
  }

  return {
    handlers,
    on: (cb) => s.on(cb),
    get dataDir() {
      return s.ctx.dataDir
    },
    calibration: () => s.calibration().done,
    close: () => s.close(),
  }
}

/** Validate input, call, validate output. Invalid input throws BadRequest (a 400 / bad_request with the issues). */
export async function dispatch(handlers: ApiHandlers, method: ApiMethod, payload: unknown): Promise<unknown> {
  const spec = API[method]
  const parsed = spec.input.safeParse(payload ?? {})
  if (!parsed.success) {
    throw new BadRequest(`invalid input for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
  }
  const fn = handlers[method] as (i: unknown) => Promise<unknown>
  let out: unknown
  try {
    out = await fn(parsed.data)
  } catch (e) {
    // the user's errors leave as ServiceErrors with a clear message; the rest stays as it was (internal)
    const c = classify(e)
    if (e instanceof ServiceError || c.code === 'internal' || c.code === 'unauthorized') throw e
    throw new ServiceError(c.message, c.code)
  }
  const checked = spec.output.safeParse(out)
  if (!checked.success) {
    throw new Error(`skipbench bug: ${method} returned data outside the contract: ${checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return checked.data
}
