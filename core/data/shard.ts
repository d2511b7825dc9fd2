/**
 * Token shards: the `.bin` format of spec B.4 (modded-nanogpt / llm.c / skip-middle) and the rules of H.12.
 *
 *   header: 256 little-endian int32 = 1024 bytes; [0] = 20240520 (magic), [1] = 1 (version), [2] = num_tokens,
 *           [3..255] = 0
 *   body:   num_tokens little-endian uint16 token ids
 *
 * Reading also accepts skip-middle's legacy 12-byte header (tokenize.py writes only 3 int32), but only when the
 * file size proves it (size = 12 + 2n) and the file is not simply a 1024-byte-header shard truncated by exactly
 * 1012 bytes (its bytes 12..1023 would be the zero padding). Writing always produces the 1024-byte form, through a
 * temporary name that is renamed into place, so an interrupted write never leaves a file that looks complete.
 *
 * Reads are positional (`fs.readSync` on an open fd) so memory stays bounded for multi-GB shards.
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { UserError } from '../user-errors.js'

const SHARD_MAGIC = 20240520
const SHARD_VERSION = 1
export const SHARD_HEADER_BYTES = 1024
const LEGACY_HEADER_BYTES = 12
/** llm.c's llama-3 shards (uint32 tokens, version 7): recognised only to give a precise error. */
const LLAMA3_SHARD_MAGIC = 20240801
/** The header stores num_tokens as int32. */
export const MAX_SHARD_TOKENS = 2 ** 31 - 1

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE'
/** Largest single read/write (bytes). */
const IO_CHUNK_BYTES = 64 * 1024 * 1024

export type ShardErrorCode =
  | 'io'
  | 'too-small'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-count'
  | 'truncated'
  | 'size-mismatch'
  | 'out-of-vocab'
  | 'out-of-range'
  | 'bad-token'
  | 'too-many-tokens'
  | 'closed'

/** Every shard problem: names the file and the numbers involved. */
export class ShardError extends UserError {
  override readonly name = 'ShardError'
  constructor(
    readonly code: ShardErrorCode,
    readonly file: string,
    message: string,
    readonly details: Record<string, number | string> = {},
  ) {
    super(`${file}: ${message}`)
  }
}

export interface ShardHeader {
  path: string
  /** 1024 for the standard form, 12 for skip-middle's legacy tokenize.py files */
  headerBytes: 1024 | 12
  numTokens: number
  fileBytes: number
}

function ioError(file: string, e: unknown): ShardError {
  const err = e as NodeJS.ErrnoException
  return new ShardError('io', file, err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`, {
    errno: err.code ?? 'unknown',
  })
}

/** Reads exactly `length` bytes at `position` (loops over short reads); throws 'truncated' if the file ends. */
function readExact(fd: number, file: string, buf: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0
  while (done < length) {
    const n = Math.min(length - done, IO_CHUNK_BYTES)
    let got: number
    try {
      got = fs.readSync(fd, buf, offset + done, n, position + done)
    } catch (e) {
      throw ioError(file, e)
    }
    if (got === 0)
      throw new ShardError('truncated', file, `file ended at byte ${position + done} while reading ${length} bytes at ${position} (was it truncated after opening?)`, {
        position: position + done,
      })
    done += got
  }
}

export function writeAll(fd: number, buf: Uint8Array, position: number | null): void {
  let done = 0
  while (done < buf.byteLength) {
    const n = Math.min(buf.byteLength - done, IO_CHUNK_BYTES)
    done += fs.writeSync(fd, buf, done, n, position === null ? null : position + done)
  }
}

function swap16InPlace(bytes: Uint8Array): void {
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const t = bytes[i]!
    bytes[i] = bytes[i + 1]!
    bytes[i + 1] = t
  }
}

/** Parses and validates the header against the file size (spec H.12). `fd` must be open for reading. */
function parseHeader(fd: number, file: string): ShardHeader {
  let fileBytes: number
  try {
    fileBytes = fs.fstatSync(fd).size
  } catch (e) {
    throw ioError(file, e)
  }
  if (fileBytes < LEGACY_HEADER_BYTES)
    throw new ShardError('too-small', file, `file is ${fileBytes} bytes, smaller than the smallest shard header (${LEGACY_HEADER_BYTES} bytes)`, { fileBytes })
  const head = new Uint8Array(Math.min(SHARD_HEADER_BYTES, fileBytes))
  readExact(fd, file, head, 0, head.length, 0)
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const magic = dv.getInt32(0, true)
  const version = dv.getInt32(4, true)
  const n = dv.getInt32(8, true)
  if (magic === LLAMA3_SHARD_MAGIC)
    throw new ShardError('bad-magic', file, `magic ${magic} is llm.c's llama-3 format (uint32 tokens); only uint16 GPT-2-style shards (magic ${SHARD_MAGIC}) are supported`, { magic })
  if (magic !== SHARD_MAGIC)
    // the file's first bytes are not named: they may be anything (a text file, a secret) picked by mistake
    throw new ShardError('bad-magic', file, `not a token shard: its header does not start with the shard magic number ${SHARD_MAGIC}`)
  if (version !== SHARD_VERSION)
    throw new ShardError('bad-version', file, `version ${version} (expected ${SHARD_VERSION})`, { version })
  if (n < 0) throw new ShardError('bad-count', file, `header token count ${n} is negative`, { numTokens: n })

  const standard = SHARD_HEADER_BYTES + 2 * n
  const legacy = LEGACY_HEADER_BYTES + 2 * n
  if (fileBytes === standard) return { path: file, headerBytes: SHARD_HEADER_BYTES, numTokens: n, fileBytes }
  if (fileBytes === legacy) {
    // A standard shard cut short by exactly 1012 bytes has the same size; its bytes 12..1023 are zero padding,
    // where a real legacy file has 506 token ids.
    if (n >= (SHARD_HEADER_BYTES - LEGACY_HEADER_BYTES) / 2 && head.subarray(LEGACY_HEADER_BYTES).every((b) => b === 0))
      throw new ShardError('truncated', file, `header says ${n} tokens; the file is ${fileBytes} bytes, which fits the legacy 12-byte header, but bytes 12..1023 are zero padding: this is a 1024-byte-header shard missing its last ${SHARD_HEADER_BYTES - LEGACY_HEADER_BYTES} bytes`, {
        numTokens: n,
        fileBytes,
        expectedBytes: standard,
      })
    return { path: file, headerBytes: LEGACY_HEADER_BYTES, numTokens: n, fileBytes }
  }
  if (fileBytes < standard)
    throw new ShardError('truncated', file, `header says ${n} tokens, so the file should be ${standard} bytes (1024 + 2·${n}); it is ${fileBytes} bytes (${standard - fileBytes} bytes missing)`, {
      numTokens: n,
      fileBytes,
      expectedBytes: standard,
    })
  throw new ShardError('size-mismatch', file, `header says ${n} tokens, so the file should be ${standard} bytes (1024 + 2·${n}); it is ${fileBytes} bytes (${fileBytes - standard} bytes too many)`, {
    numTokens: n,
    fileBytes,
    expectedBytes: standard,
  })
}

/** Reads and validates a shard's header (no token data is read). */
export function readShardHeader(path: string): ShardHeader {
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch (e) {
    throw ioError(path, e)
  }
  try {
    return parseHeader(fd, path)
  } finally {
    fs.closeSync(fd)
  }
}

export interface ShardReader {
  readonly path: string
  readonly numTokens: number
  readonly headerBytes: 1024 | 12
  readonly fileBytes: number
  /** when set, every read checks ids < vocabSize */
  readonly vocabSize: number | undefined
  /**
   * Tokens [start, start+count). Returns `into` (must hold ≥ count) or a new array. Throws ShardError
   * ('out-of-range', 'out-of-vocab', 'truncated', 'closed').
   */
  read(start: number, count: number, into?: Uint16Array): Uint16Array
  close(): void
}

export interface OpenShardOptions {
  vocabSize?: number
}

function checkVocab(file: string, tokens: Uint16Array, count: number, base: number, vocabSize: number): void {
  if (vocabSize >= 65536) return
  for (let i = 0; i < count; i++) {
    const t = tokens[i]!
    if (t >= vocabSize)
      throw new ShardError('out-of-vocab', file, `token id ${t} at position ${base + i} is not below the vocabulary size ${vocabSize}`, {
        tokenId: t,
        position: base + i,
        vocabSize,
      })
  }
}

export function checkVocabSize(vocabSize: number | undefined): void {
  if (vocabSize !== undefined && (!Number.isInteger(vocabSize) || vocabSize < 1))
    throw new RangeError(`vocabSize must be a positive integer, got ${vocabSize}`)
}

/** Opens a shard for positional reads. Validates the header against the file size first. */
export function openShard(path: string, opts: OpenShardOptions = {}): ShardReader {
  checkVocabSize(opts.vocabSize)
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch (e) {
    throw ioError(path, e)
  }
  let header: ShardHeader
  try {
    header = parseHeader(fd, path)
  } catch (e) {
    fs.closeSync(fd)
    throw e
  }
  let open = true
  const { numTokens, headerBytes, fileBytes } = header
  const vocabSize = opts.vocabSize
  return {
    path,
    numTokens,
    headerBytes,
    fileBytes,
    vocabSize,
    read(start: number, count: number, into?: Uint16Array): Uint16Array {
      if (!open) throw new ShardError('closed', path, 'read after close')
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > numTokens)
        throw new ShardError('out-of-range', path, `cannot read tokens [${start}, ${start + count}) of a ${numTokens}-token shard`, {
          start,
          count,
          numTokens,
        })
      if (into && into.length < count) throw new RangeError(`destination holds ${into.length} tokens, need ${count}`)
      const out = into ?? new Uint16Array(count)
      const bytes = new Uint8Array(out.buffer, out.byteOffset, count * 2)
      readExact(fd, path, bytes, 0, count * 2, headerBytes + 2 * start)
      if (!LITTLE_ENDIAN_HOST) swap16InPlace(bytes)
      if (vocabSize !== undefined) checkVocab(path, out, count, start, vocabSize)
      return out
    },
    close(): void {
      if (open) {
        open = false
        fs.closeSync(fd)
      }
    },
  }
}

/** Reads a whole shard into memory (small shards, tests, inspection). */
export function readShard(path: string, opts: OpenShardOptions = {}): Uint16Array {
  const r = openShard(path, opts)
  try {
    return r.read(0, r.numTokens)
  } finally {
    r.close()
  }
}

export interface ShardScan extends ShardHeader {
  /** largest token id (−1 for an empty shard) */
  maxTokenId: number
  /** occurrences of `eot` when given, else 0 */
  eotCount: number
}

/**
 * Streams a whole shard in bounded chunks: validates the header, that every id is < vocabSize (when given), and
 * returns the maximum id and (optionally) the number of EOT tokens, i.e. documents.
 */
export function scanShard(path: string, opts: { vocabSize?: number; eot?: number; chunkTokens?: number } = {}): ShardScan {
  const r = openShard(path, opts.vocabSize === undefined ? {} : { vocabSize: opts.vocabSize })
  try {
    const chunk = new Uint16Array(Math.min(opts.chunkTokens ?? 4 * 1024 * 1024, Math.max(1, r.numTokens)))
    let maxTokenId = -1
    let eotCount = 0
    const eot = opts.eot ?? -1
    for (let pos = 0; pos < r.numTokens; pos += chunk.length) {
      const n = Math.min(chunk.length, r.numTokens - pos)
      r.read(pos, n, chunk)
      for (let i = 0; i < n; i++) {
        const t = chunk[i]!
        if (t > maxTokenId) maxTokenId = t
        if (t === eot) eotCount++
      }
    }
    return { path, headerBytes: r.headerBytes, numTokens: r.numTokens, fileBytes: r.fileBytes, maxTokenId, eotCount }
  } finally {
    r.close()
  }
}

export function makeHeader(numTokens: number): Uint8Array {
  const head = new Uint8Array(SHARD_HEADER_BYTES)
  const dv = new DataView(head.buffer)
  dv.setInt32(0, SHARD_MAGIC, true)
  dv.setInt32(4, SHARD_VERSION, true)
  dv.setInt32(8, numTokens, true)
  return head
}

/** Validates arbitrary token input and returns it as a Uint16Array (no copy for a Uint16Array). */
export function toUint16(file: string, tokens: Uint16Array | ArrayLike<number>, base: number, vocabSize?: number): Uint16Array {
  let out: Uint16Array
  if (tokens instanceof Uint16Array) out = tokens
  else {
    out = new Uint16Array(tokens.length)
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!
      if (!Number.isInteger(t) || t < 0 || t > 65535)
        throw new ShardError('bad-token', file, `token ${t} at position ${base + i} is not an integer in [0, 65535] (shards store uint16 ids)`, {
          position: base + i,
        })
      out[i] = t
    }
  }
  if (vocabSize !== undefined) checkVocab(file, out, out.length, base, vocabSize)
  return out
}

export function littleEndianBytes(tokens: Uint16Array): Uint8Array {
  const view = new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength)
  if (LITTLE_ENDIAN_HOST) return view
  const copy = new Uint8Array(view)
  swap16InPlace(copy)
  return copy
}

export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
}

export function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true })
  } catch {
    /* best effort */
  }
}

/**
 * Writes a complete shard (1024-byte header) to a temporary name, fsyncs and renames it into place. Returns its
 * header info. With `vocabSize`, ids ≥ vocabSize are refused.
 */
export function writeShard(path: string, tokens: Uint16Array | ArrayLike<number>, opts: { vocabSize?: number } = {}): ShardHeader {
  checkVocabSize(opts.vocabSize)
  const data = toUint16(path, tokens, 0, opts.vocabSize)
  if (data.length > MAX_SHARD_TOKENS)
    throw new ShardError('too-many-tokens', path, `${data.length} tokens exceed the int32 header limit ${MAX_SHARD_TOKENS}`, { numTokens: data.length })
  const tmp = tempName(path)
  let fd: number | undefined
  try {
    fd = fs.openSync(tmp, 'w')
    writeAll(fd, makeHeader(data.length), 0)
    writeAll(fd, littleEndianBytes(data), SHARD_HEADER_BYTES)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    fs.renameSync(tmp, path)
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd)
    removeQuietly(tmp)
    if (e instanceof ShardError) throw e
    throw new ShardError('io', path, `cannot write: ${(e as Error).message}`)
  }
  return { path, headerBytes: SHARD_HEADER_BYTES, numTokens: data.length, fileBytes: SHARD_HEADER_BYTES + 2 * data.length }
}

/** sha256 (hex) of a file, streamed in bounded chunks. */
export function sha256File(path: string): string {
  const h = createHash('sha256')
  const fd = fs.openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024)
    let pos = 0
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) break
      h.update(buf.subarray(0, n))
      pos += n
    }
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}
