/** `skipbench serve [--port N] [--host H] [--data-dir D]`: the workbench UI and its API over HTTP + WebSocket. */
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { z } from 'zod'
import { requiresToken, startServer } from '../../core/server/server.js'
import { databaseIn, defaultDataDir, resolveStorePaths } from '../../core/paths.js'
import { parseArgv, UsageError, validate } from '../args.js'

export const SERVE_HELP = `usage: skipbench serve [--port N] [--host H] [--data-dir DIR] [--db PATH]

Serve the workbench (the same UI as the desktop app) and its API. Open the printed URL in a browser.

  --port N          port (default 4719; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1). Anything but 127.0.0.1 or ::1 requires an access token,
                    generated at start and printed with the URL: share it only with people who may train here.
  --data-dir DIR    one self-contained folder: database, run folders and datasets. Without it, the same places
                    as the other commands: the database $SKIPBENCH_DB or ./.skipbench/skipbench.db (runs/ beside
                    it) and datasets in $SKIPBENCH_DATA_DIR or ./.skipbench/data, so runs queued with
                    \`skipbench sweep\` or \`skipbench queue\` show up here
  --db PATH         the database (run folders go to runs/ beside it)

The renderer must be built first (\`npm run web\` builds and serves). Ctrl-C stops the server; running training
jobs checkpoint and pause, and resume from the Run page after the next start.`

const Options = z.object({
  port: z.coerce.number().int().min(0, { error: 'a port from 0 to 65535' }).max(65535, { error: 'a port from 0 to 65535' }).default(4719),
  host: z.string().min(1).default('127.0.0.1'),
  'data-dir': z.string().min(1).optional(),
  db: z.string().min(1).optional(),
})

export async function serveCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: [], values: ['port', 'host', 'data-dir', 'db'] })
  if (positionals.length) throw new UsageError(`serve takes no arguments, got ${positionals.join(' ')}`)
  const o = validate(Options, options)
  // --data-dir: everything in one folder; otherwise the CLI's places (core/jobs resolveStorePaths)
  const dataDir = o['data-dir'] ? resolve(o['data-dir']) : defaultDataDir()
  const paths = o['data-dir'] && !o.db ? null : resolveStorePaths(o.db ? { db: o.db } : {})
  const server = await startServer({ host: o.host, port: o.port, dataDir, ...(paths ? { dbPath: paths.db, runsDir: paths.runsDir } : {}) })
  process.stdout.write(`skipbench serve: database ${paths?.db ?? databaseIn(dataDir)}, datasets in ${dataDir}\n`)
  process.stdout.write(`open ${server.openUrl}\n`)
  if (server.token) {
    const port = new URL(server.url).port
    const name = o.host === '0.0.0.0' || o.host === '::' ? hostname() : o.host
    process.stdout.write(`from other machines: http://${name.includes(':') ? `[${name}]` : name}:${port}/?token=${encodeURIComponent(server.token)}\n`)
    process.stdout.write(`access token: ${server.token} (required because the server is bound to ${o.host}, not 127.0.0.1 or ::1)\n`)
  }
  else if (requiresToken(o.host)) process.stdout.write('warning: no access token\n')
  return new Promise<number>((done) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      process.stdout.write(`\n${signal}: stopping (running jobs checkpoint and pause)…\n`)
      server.close().then(
        () => done(0),
        (e: Error) => {
          process.stderr.write(`skipbench serve: ${e.message}\n`)
          done(1)
        },
      )
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}
