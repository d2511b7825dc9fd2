/**
 * Errors at the service boundary and how each maps to a transport code: the user's mistakes (a bad config, a run
 * that cannot be resumed, a missing file) are 4xx with their message; anything else is an internal error.
 */
import { isUserError } from '../user-errors.js'
import type { ApiErrorCode } from '../contract/api.js'

export class ServiceError extends Error {
  constructor(
    message: string,
    readonly code: Exclude<ApiErrorCode, 'internal' | 'unauthorized'>,
  ) {
    super(message)
    this.name = 'ServiceError'
  }
}

/** Invalid input (schema or semantics). Kept as its own class: transports test for it. */
export class BadRequest extends ServiceError {
  constructor(message: string) {
    super(message, 'bad_request')
    this.name = 'BadRequest'
  }
}

export const notFound = (what: string) => new ServiceError(`${what} not found`, 'not_found')
export const conflict = (message: string) => new ServiceError(message, 'conflict')


export function classify(e: unknown): { code: ApiErrorCode; message: string; status: number } {
  const err = e instanceof Error ? e : new Error(String(e))
  if (err instanceof ServiceError) return { code: err.code, message: err.message, status: statusOf(err.code) }
  if (err.name === 'NotFoundError') return { code: 'not_found', message: err.message, status: 404 }
  if (err.name === 'JobError') return { code: 'conflict', message: err.message, status: 409 }
  const sqlite = String((err as { code?: unknown }).code ?? '')
  if (sqlite === 'SQLITE_CONSTRAINT_UNIQUE') return { code: 'conflict', message: uniqueMessage(err.message), status: 409 }
  // AbortError (a cancelled import) and RangeError (a bad number reaching core) are the caller's too
  if (isUserError(err) || err.name === 'AbortError' || err.name === 'RangeError') return { code: 'bad_request', message: err.message, status: 400 }
  return { code: 'internal', message: err.message || 'internal error', status: 500 }
}

function statusOf(code: ApiErrorCode): number {
  return { bad_request: 400, unauthorized: 401, not_found: 404, conflict: 409, internal: 500 }[code]
}

function uniqueMessage(m: string): string {
  const col = /UNIQUE constraint failed: (\w+)\.(\w+)/.exec(m)
  if (col?.[1] === 'experiments') return 'an experiment with this name already exists: choose another name'
  return m
}
