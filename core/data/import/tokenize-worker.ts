/**
 * Worker-thread entry for parallel tokenization. Loaded by pool.ts: directly when running the built .js, or
 * through tsx's in-thread loader when running from .ts sources.
 *
 * Protocol: workerData = { tokenizer }. Posts { type: 'ready' } once the tokenizer is loaded, then answers each
 * { id, texts, prefixEot } with { type: 'result', id, tokens, lengths, longRunsSplit } (buffers transferred) or
 * { type: 'error', id, message }.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { getTokenizer } from '../../tokenizer/index.js'
import type { TokenizerName } from '../../tokenizer/types.js'
import { encodeBatch } from './encode.js'

interface Request {
  id: number
  texts: string[]
  prefixEot: Uint8Array
}

const port = parentPort
if (!port) throw new Error('tokenize-worker must run in a worker thread')
const tok = getTokenizer((workerData as { tokenizer: TokenizerName }).tokenizer)

port.on('message', (msg: Request) => {
  try {
    const r = encodeBatch(tok, msg.texts, msg.prefixEot)
    port.postMessage({ type: 'result', id: msg.id, tokens: r.tokens, lengths: r.lengths, longRunsSplit: r.longRunsSplit }, [r.tokens.buffer as ArrayBuffer, r.lengths.buffer as ArrayBuffer])
  } catch (e) {
    port.postMessage({ type: 'error', id: msg.id, message: (e as Error).stack ?? String(e) })
  }
})
port.postMessage({ type: 'ready' })
