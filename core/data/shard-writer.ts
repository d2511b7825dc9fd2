/** Writing token shards as a stream: one shard (ShardWriter) or a rolling series of them (RollingShardWriter). */
import fs from 'node:fs'
import { MAX_SHARD_TOKENS, SHARD_HEADER_BYTES, ShardError, checkVocabSize, littleEndianBytes, makeHeader, removeQuietly, sha256File, tempName, toUint16, writeAll, type ShardHeader } from './shard.js'

export interface WrittenShard extends ShardHeader {
  sha256: string
}

/**
 * Streams one shard to disk: tokens are appended to `<path>.tmp-…` behind a zeroed header (so a partial file is
 * never a valid shard, nor under the final name); `finish()` writes the header, fsyncs and renames.
 */
export class ShardWriter {
  private fd: number | undefined
  private readonly tmp: string
  private count = 0
  private done = false

  constructor(
    readonly path: string,
    private readonly opts: { vocabSize?: number } = {},
  ) {
    checkVocabSize(opts.vocabSize)
    this.tmp = tempName(path)
    try {
      this.fd = fs.openSync(this.tmp, 'w')
      writeAll(this.fd, new Uint8Array(SHARD_HEADER_BYTES), 0)
    } catch (e) {
      this.abort()
      throw new ShardError('io', path, `cannot create ${this.tmp}: ${(e as Error).message}`)
    }
  }

  get numTokens(): number {
    return this.count
  }

  append(tokens: Uint16Array | ArrayLike<number>): void {
    if (this.done || this.fd === undefined) throw new ShardError('closed', this.path, 'append after finish/abort')
    const data = toUint16(this.path, tokens, this.count, this.opts.vocabSize)
    if (this.count + data.length > MAX_SHARD_TOKENS)
      throw new ShardError('too-many-tokens', this.path, `${this.count + data.length} tokens exceed the int32 header limit ${MAX_SHARD_TOKENS}`)
    writeAll(this.fd, littleEndianBytes(data), SHARD_HEADER_BYTES + 2 * this.count)
    this.count += data.length
  }

  /** Completes the shard and returns its info with the sha256 of the final file. */
  finish(): WrittenShard {
    if (this.done || this.fd === undefined) throw new ShardError('closed', this.path, 'finish after finish/abort')
    try {
      writeAll(this.fd, makeHeader(this.count), 0)
      fs.fsyncSync(this.fd)
      fs.closeSync(this.fd)
      this.fd = undefined
      fs.renameSync(this.tmp, this.path)
    } catch (e) {
      this.abort()
      throw new ShardError('io', this.path, `cannot finish: ${(e as Error).message}`)
    }
    this.done = true
    return { path: this.path, headerBytes: SHARD_HEADER_BYTES, numTokens: this.count, fileBytes: SHARD_HEADER_BYTES + 2 * this.count, sha256: sha256File(this.path) }
  }

  /** Discards the partial file. Safe to call more than once. */
  abort(): void {
    this.done = true
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd)
      } catch {
        /* already closed */
      }
      this.fd = undefined
    }
    removeQuietly(this.tmp)
  }
}

/**
 * A sequence of shards of at most `maxTokens` tokens each, named by `makePath(index)`. Empty trailing shards are
 * not written. `finish()` returns the shards in order.
 */
export class RollingShardWriter {
  private current: ShardWriter | undefined
  private readonly written: WrittenShard[] = []
  private closed = false
  private total = 0

  constructor(
    private readonly makePath: (index: number) => string,
    private readonly opts: { maxTokens?: number; vocabSize?: number } = {},
  ) {
    const m = opts.maxTokens ?? 100_000_000
    if (!Number.isInteger(m) || m < 1 || m > MAX_SHARD_TOKENS) throw new RangeError(`maxTokens must be an integer in [1, ${MAX_SHARD_TOKENS}], got ${m}`)
  }

  get numTokens(): number {
    return this.total
  }

  get shards(): readonly WrittenShard[] {
    return this.written
  }

  append(tokens: Uint16Array | ArrayLike<number>): void {
    if (this.closed) throw new Error('RollingShardWriter: append after finish/abort')
    const max = this.opts.maxTokens ?? 100_000_000
    let off = 0
    const n = tokens.length
    while (off < n) {
      if (!this.current) this.current = new ShardWriter(this.makePath(this.written.length), this.opts.vocabSize === undefined ? {} : { vocabSize: this.opts.vocabSize })
      const room = max - this.current.numTokens
      const take = Math.min(room, n - off)
      const part = tokens instanceof Uint16Array ? tokens.subarray(off, off + take) : Array.prototype.slice.call(tokens, off, off + take)
      this.current.append(part)
      off += take
      this.total += take
      if (this.current.numTokens >= max) {
        this.written.push(this.current.finish())
        this.current = undefined
      }
    }
  }

  finish(): WrittenShard[] {
    if (this.closed) throw new Error('RollingShardWriter: finish after finish/abort')
    this.closed = true
    if (this.current) {
      if (this.current.numTokens > 0) this.written.push(this.current.finish())
      else this.current.abort()
      this.current = undefined
    }
    return [...this.written]
  }

  /** Discards the shard in progress and deletes the shards already completed. */
  abort(): void {
    this.closed = true
    this.current?.abort()
    this.current = undefined
    for (const s of this.written) removeQuietly(s.path)
  }
}
