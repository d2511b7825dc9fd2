/**
 * `skipbench serve`: the renderer's contract over HTTP, plus the built renderer as static files.
 * Bound to 127.0.0.1 by default. Bound anywhere else it requires a random bearer token, printed at start.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyStatic from '@fastify/static'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { isApiMethod } from '../contract/api.js'
import { BadRequest, createService, dispatch } from '../service/service.js'

export interface ServeOptions {
  host?: string
  port?: number
  dataDir: string
  /** folder with the built renderer (index.html); default out/renderer of the repository */
  rendererDir?: string
  /** force a token even on loopback (tests); default: required only off loopback */
  token?: string | null
}

export interface RunningServer {
  app: FastifyInstance
  url: string
  token: string | null
  close(): Promise<void>
}

export const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.')

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token !== undefined ? opts.token : isLoopback(host) ? null : randomBytes(24).toString('base64url')
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 })
  const service = createService({ transport: 'http', dataDir: opts.dataDir })

  const authorized = (header: string | undefined): boolean => {
    if (token === null) return true
    const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '')
    const want = Buffer.from(token)
    return given.length === want.length && timingSafeEqual(given, want)
  }

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    )
    return payload
  })

  app.post('/api/:method', async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).send({ error: 'missing or wrong access token', code: 'unauthorized' })
    const { method } = req.params as { method: string }
    if (!isApiMethod(method)) return reply.code(404).send({ error: `unknown method ${JSON.stringify(method)}`, code: 'not_found' })
    try {
      return { value: await dispatch(service, method, req.body ?? {}) }
    } catch (e) {
      if (e instanceof BadRequest) return reply.code(400).send({ error: e.message, code: 'bad_request' })
      req.log.error(e)
      return reply.code(500).send({ error: (e as Error).message, code: 'internal' })
    }
  })
  // malformed JSON bodies → 400 with a message (fastify's default error handler already does; keep shape uniform)
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code = err.statusCode && err.statusCode < 500 ? err.statusCode : 500
    void reply.code(code).send({ error: err.message, code: code === 400 ? 'bad_request' : 'internal' })
  })

  const rendererDir = opts.rendererDir ?? resolve(new URL('../../out/renderer', import.meta.url).pathname)
  if (existsSync(resolve(rendererDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: rendererDir, index: ['index.html'] })
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The renderer is not built: run `npm run build:app` (electron-vite build), then restart `skipbench serve`.'),
    )
  }

  const address = await app.listen({ host, port: opts.port ?? 0 })
  const url = address.replace('[::1]', 'localhost')
  return { app, url, token, close: () => app.close() }
}
