/**
 * `skipbench serve`: the renderer's contract over HTTP (`POST /api/<method>`), its events over a WebSocket
 * (`/api/events`), and the built renderer as static files.
 *
 * Security: bound to 127.0.0.1 by default. Bound anywhere but exactly 127.0.0.1 or ::1 (`localhost` included: it
 * may resolve elsewhere) it requires a random access token, printed at start:
 * `Authorization: Bearer <token>` on HTTP; on the WebSocket `?token=<token>` or the subprotocol
 * `skipbench.token.<token>` (browsers cannot set headers there). Requests whose Origin is another site are refused
 * (no cross-site calls or event reading from a page the user happens to visit), and so are Host and Origin names that
 * are not loopback names (isLoopbackName: 127.0.0.0/8 literals, localhost, [::1]) when it is bound to loopback, so a
 * rebinding DNS name such as 127.0.0.1.evil.example is refused.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import fastifyWebsocket from '@fastify/websocket'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { EVENTS_PATH, isApiMethod, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type ServerEvent } from '../contract/api.js'
import { classify, createService, dispatch, type Service } from '../service/service.js'
import { packageFile } from '../paths.js'

export interface ServeOptions {
  host?: string
  port?: number
  /** datasets (and, unless dbPath/runsDir say otherwise, the database and run folders) */
  dataDir: string
  dbPath?: string
  runsDir?: string
  /** folder with the built renderer (index.html); default out/renderer of the repository */
  rendererDir?: string
  /** force a token even on loopback (tests); default: required only off loopback */
  token?: string | null
  /** an existing service (tests share one); default: a new one over dataDir, closed with the server */
  service?: Service
  /** per-socket send buffer above which events are dropped for that client (a stalled tab), bytes; default 8 MiB */
  maxSocketBuffer?: number
}

export interface RunningServer {
  app: FastifyInstance
  url: string
  /** the URL to open in a browser (with the token when one is required) */
  openUrl: string
  token: string | null
  service: Service
  close(): Promise<void>
}

/**
 * A name that can only mean this machine: an IPv4 literal in 127.0.0.0/8 (four decimal parts), `localhost`, or
 * `::1` (bare or bracketed). Anything else — `127.0.0.1.evil.example` included — may be a rebinding DNS name.
 */
export function isLoopbackName(name: string): boolean {
  const n = name.toLowerCase()
  if (n === 'localhost' || n === '::1' || n === '[::1]') return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(n)
  return !!m && m.slice(1).every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')))
}
/** Whether binding to `host` exposes the server beyond this user: anything but exactly 127.0.0.1 or ::1 needs the token. */
export const requiresToken = (host: string) => host !== '127.0.0.1' && host !== '::1'

const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

/** Token from an Authorization header, a `?token=` query, or a `skipbench.token.<t>` subprotocol. */
export function tokenOf(req: { headers: Record<string, string | string[] | undefined>; url: string }, allowQuery: boolean): string | null {
  const auth = req.headers['authorization']
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '')
  if (!allowQuery) return null
  const q = new URL(req.url, 'http://x').searchParams.get('token')
  if (q) return q
  const protos = req.headers['sec-websocket-protocol']
  for (const p of (Array.isArray(protos) ? protos.join(',') : (protos ?? '')).split(',').map((s) => s.trim()))
    if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return p.slice(WS_TOKEN_PROTOCOL_PREFIX.length)
  return null
}

/** The name in a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`); '' when it is none of those. */
const hostName = (h: string) => /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(h)?.[1] ?? /^([^:[\]]+)(?::\d+)?$/.exec(h)?.[1] ?? ''

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token !== undefined ? opts.token : requiresToken(host) ? randomBytes(24).toString('base64url') : null
  const service = opts.service ?? (await createService({ transport: 'http', dataDir: opts.dataDir, ...(opts.dbPath ? { dbPath: opts.dbPath } : {}), ...(opts.runsDir ? { runsDir: opts.runsDir } : {}) }))
  const ownsService = !opts.service
  const maxBuffer = opts.maxSocketBuffer ?? 8 << 20
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 })

  const authorized = (given: string | null): boolean => {
    if (token === null) return true
    const a = Buffer.from(given ?? '')
    const b = Buffer.from(token)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  const boundToLoopback = isLoopbackName(host)
  /** Same-origin only: an Origin header, when present, must name this server's host (a loopback name when bound there). */
  const sameOrigin = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin
    if (!origin) return true
    try {
      const o = new URL(origin)
      return o.host === req.headers.host && (!boundToLoopback || isLoopbackName(o.hostname))
    } catch {
      return false
    }
  }
  /** Bound to loopback, only loopback names may address us (a rebinding DNS name is refused). */
  const hostAllowed = (req: FastifyRequest): boolean => !boundToLoopback || isLoopbackName(hostName(req.headers.host ?? ''))

  const guard = async (req: FastifyRequest, reply: FastifyReply, isWs: boolean) => {
    if (!hostAllowed(req)) return reply.code(403).send({ error: `host ${JSON.stringify(req.headers.host)} is not this server's loopback address`, code: 'unauthorized' })
    if (!sameOrigin(req)) return reply.code(403).send({ error: 'cross-origin requests are refused', code: 'unauthorized' })
    if (!authorized(tokenOf({ headers: req.headers, url: req.url }, isWs)))
      return reply.code(401).send({ error: isWs ? 'missing or wrong access token (pass ?token= or the skipbench.token.<token> subprotocol)' : 'missing or wrong access token (Authorization: Bearer <token>)', code: 'unauthorized' })
  }

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 64 * 1024,
      // answer with the plain protocol name, never echo the token back
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('Cross-Origin-Resource-Policy', 'same-origin')
    reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    return payload
  })

  // events: one WebSocket per renderer, every ServerEvent as a JSON text frame
  app.get(EVENTS_PATH, { websocket: true, preValidation: (req, reply) => guard(req, reply, true) }, (socket) => {
    const send = (e: ServerEvent) => {
      if (socket.readyState !== socket.OPEN) return
      if (socket.bufferedAmount > maxBuffer) return // a stalled client: drop rather than grow without bound
      socket.send(JSON.stringify(e))
    }
    const off = service.on(send)
    socket.on('close', off)
    socket.on('error', off)
    socket.on('message', () => {
      // the stream is one-way; clients send nothing (pings are handled by ws itself)
    })
    socket.send(JSON.stringify({ type: 'hello' }))
  })

  app.post('/api/:method', { preValidation: (req, reply) => guard(req, reply, false) }, async (req, reply) => {
    const { method } = req.params as { method: string }
    if (!isApiMethod(method)) return reply.code(404).send({ error: `unknown method ${JSON.stringify(method)}`, code: 'not_found' })
    try {
      return { value: await dispatch(service.handlers, method, req.body ?? {}) }
    } catch (e) {
      const c = classify(e)
      if (c.code === 'internal') console.error(`skipbench serve: ${method} failed:`, e)
      return reply.code(c.status).send({ error: c.message, code: c.code })
    }
  })

  // malformed bodies (bad JSON, wrong content type, too large) → their 4xx with a message, never a crash
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    if (status === 500) console.error('skipbench serve:', err)
    void reply.code(status).send({ error: err.message, code: status === 500 ? 'internal' : status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : 'bad_request' })
  })
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no such route: ${req.method} ${req.url.split('?')[0]}`, code: 'not_found' })
  })

  const rendererDir = opts.rendererDir ?? packageFile('out/renderer')
  if (existsSync(resolve(rendererDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: rendererDir, index: ['index.html'] })
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The renderer is not built: run `npm run build:app` (electron-vite build), then restart `skipbench serve`.'),
    )
  }

  const address = await app.listen({ host, port: opts.port ?? 0 })
  const url = address.replace('[::1]', 'localhost')
  return {
    app,
    url,
    openUrl: token ? `${url}/?token=${encodeURIComponent(token)}` : `${url}/`,
    token,
    service,
    async close() {
      await app.close()
      if (ownsService) await service.close()
    },
  }
}
