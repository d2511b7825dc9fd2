/**
 * Errors that are the user's to fix (a bad config, an unreadable checkpoint, a corrupt shard, a missing cluster, ...):
 * every such class extends UserError. The CLI prints their message without a stack trace; the service answers them
 * with 400 (or 404/409 where core/service/errors.ts says so). Everything else is a bug and keeps its stack.
 *
 * Pure (no imports): core/config, which the renderer imports, extends it too.
 */
export class UserError extends Error {
  /** survives structured cloning: an error sent from a worker thread or process keeps saying it is the user's */
  readonly userError = true
}

/**
 * Whether an error is the user's to fix: a UserError, or an error rebuilt from one on the other side of a thread or
 * process boundary (the report preview's worker thread sends `userError: true` with the name and message).
 */
export function isUserError(e: unknown): boolean {
  return e instanceof UserError || (e instanceof Error && (e as { userError?: unknown }).userError === true)
}
