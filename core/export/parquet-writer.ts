/**
 * A minimal Parquet writer: `skipbench runs export --format parquet` (core/export/metrics.ts), and the fixtures of the
 * import tests and benchmark (no Parquet writer package is installed).
 *
 * Writes flat schemas of string (BYTE_ARRAY + UTF8), raw binary (BYTE_ARRAY, no annotation), INT64 and DOUBLE
 * columns, REQUIRED or OPTIONAL (nulls as definition levels), in row groups, one PLAIN data page (v1) per column
 * chunk, with codec UNCOMPRESSED, SNAPPY (literal-only blocks, valid for any reader) or GZIP. Metadata is Thrift
 * compact protocol, as the format requires. Good enough for hyparquet and any conforming reader; not a general
 * writer (no dictionaries, statistics or nested types).
 */
import fs from 'node:fs'
import { gzipSync } from 'node:zlib'

export type MiniColumnType = 'string' | 'binary' | 'int64' | 'double'
export type MiniCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP'

export interface MiniColumn {
  name: string
  type: MiniColumnType
  optional?: boolean
  /** one value per row; null for a missing value (optional columns only) */
  values: (string | Uint8Array | number | bigint | null)[]
}

// --- Thrift compact protocol -----------------------------------------------------------------------------------

const T = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const

class ThriftWriter {
  private bytes: number[] = []
  private lastField: number[] = [0]

  private varint(n: bigint): void {
    let v = n
    while (v >= 0x80n) {
      this.bytes.push(Number((v & 0x7fn) | 0x80n))
      v >>= 7n
    }
    this.bytes.push(Number(v))
  }
  private zigzag(n: bigint): void {
    this.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n)
  }
  private fieldHeader(id: number, type: number): void {
    const last = this.lastField[this.lastField.length - 1]!
    const delta = id - last
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type)
    else {
      this.bytes.push(type)
      this.zigzag(BigInt(id))
    }
    this.lastField[this.lastField.length - 1] = id
  }
  i32(id: number, v: number): this {
    this.fieldHeader(id, T.I32)
    this.zigzag(BigInt(v))
    return this
  }
  i64(id: number, v: number | bigint): this {
    this.fieldHeader(id, T.I64)
    this.zigzag(BigInt(v))
    return this
  }
  binary(id: number, v: string | Uint8Array): this {
    this.fieldHeader(id, T.BINARY)
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v
    this.varint(BigInt(b.length))
    for (const x of b) this.bytes.push(x)
    return this
  }
  struct(id: number, body: (w: ThriftWriter) => void): this {
    this.fieldHeader(id, T.STRUCT)
    this.lastField.push(0)
    body(this)
    this.bytes.push(0) // stop
    this.lastField.pop()
    return this
  }
  private listHeader(id: number, size: number, elemType: number): void {
    this.fieldHeader(id, T.LIST)
    if (size < 15) this.bytes.push((size << 4) | elemType)
    else {
      this.bytes.push(0xf0 | elemType)
      this.varint(BigInt(size))
    }
  }
  listI32(id: number, vs: number[]): this {
    this.listHeader(id, vs.length, T.I32)
    for (const v of vs) this.zigzag(BigInt(v))
    return this
  }
  listBinary(id: number, vs: string[]): this {
    this.listHeader(id, vs.length, T.BINARY)
    for (const v of vs) {
      const b = Buffer.from(v, 'utf8')
      this.varint(BigInt(b.length))
      for (const x of b) this.bytes.push(x)
    }
    return this
  }
  listStruct<E>(id: number, items: E[], body: (w: ThriftWriter, item: E) => void): this {
    this.listHeader(id, items.length, T.STRUCT)
    for (const it of items) {
      this.lastField.push(0)
      body(this, it)
      this.bytes.push(0)
      this.lastField.pop()
    }
    return this
  }
  /** a top-level struct ends with a stop byte */
  finish(): Buffer {
    return Buffer.from([...this.bytes, 0])
  }
}

// --- encodings --------------------------------------------------------------------------------------------------

/** RLE runs of definition levels (bit width 1), prefixed by their 4-byte length as data page v1 requires. */
function defLevels(levels: number[]): Buffer {
  const out: number[] = []
  let i = 0
  while (i < levels.length) {
    let j = i
    while (j < levels.length && levels[j] === levels[i]) j++
    let run = (j - i) << 1
    while (run >= 0x80) {
      out.push((run & 0x7f) | 0x80)
      run >>>= 7
    }
    out.push(run)
    out.push(levels[i]!)
    i = j
  }
  const len = Buffer.alloc(4)
  len.writeUInt32LE(out.length)
  return Buffer.concat([len, Buffer.from(out)])
}

function plainValues(col: MiniColumn, present: MiniColumn['values']): Buffer {
  const parts: Buffer[] = []
  for (const v of present) {
    if (col.type === 'string' || col.type === 'binary') {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array)
      const len = Buffer.alloc(4)
      len.writeUInt32LE(b.length)
      parts.push(len, b)
    } else if (col.type === 'int64') {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(v as number | bigint))
      parts.push(b)
    } else {
      const b = Buffer.alloc(8)
      b.writeDoubleLE(Number(v))
      parts.push(b)
    }
  }
  return Buffer.concat(parts)
}

/** Snappy with literal blocks only (valid, uncompressed-size output). */
function snappyLiteral(data: Buffer): Buffer {
  const out: number[] = []
  let n = data.length
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  const parts: Buffer[] = [Buffer.from(out)]
  for (let p = 0; p < data.length; p += 65536) {
    const chunk = data.subarray(p, Math.min(data.length, p + 65536))
    const len = chunk.length - 1
    if (len < 60) parts.push(Buffer.from([len << 2]))
    else if (len < 256) parts.push(Buffer.from([60 << 2, len]))
    else parts.push(Buffer.from([61 << 2, len & 0xff, len >> 8]))
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}

const PHYSICAL: Record<MiniColumnType, number> = { string: 6, binary: 6, int64: 2, double: 5 }
const CODEC: Record<MiniCodec, number> = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2 }

export interface MiniParquetOptions {
  rowGroupSize?: number
  codec?: MiniCodec
}

/** Builds a Parquet file in memory. All columns must have the same number of values. */
export function buildParquet(columns: MiniColumn[], opts: MiniParquetOptions = {}): Buffer {
  const numRows = columns[0]?.values.length ?? 0
  for (const c of columns) if (c.values.length !== numRows) throw new Error(`column ${c.name}: ${c.values.length} values, expected ${numRows}`)
  const rgSize = opts.rowGroupSize ?? 1000
  const codec = opts.codec ?? 'UNCOMPRESSED'
  const chunks: Buffer[] = [Buffer.from('PAR1')]
  let offset = 4
  const rowGroups: { cols: { offset: number; size: number; uncompressed: number; numValues: number }[]; rows: number }[] = []
  for (let r0 = 0; r0 < numRows; r0 += rgSize) {
    const r1 = Math.min(numRows, r0 + rgSize)
    const cols: { offset: number; size: number; uncompressed: number; numValues: number }[] = []
    for (const col of columns) {
      const vals = col.values.slice(r0, r1)
      const present = vals.filter((v) => v !== null)
      if (!col.optional && present.length !== vals.length) throw new Error(`column ${col.name} is required but has nulls`)
      const body = Buffer.concat([col.optional ? defLevels(vals.map((v) => (v === null ? 0 : 1))) : Buffer.alloc(0), plainValues(col, present)])
      const compressed = codec === 'GZIP' ? gzipSync(body) : codec === 'SNAPPY' ? snappyLiteral(body) : body
      const header = new ThriftWriter()
        .i32(1, 0) // DATA_PAGE
        .i32(2, body.length)
        .i32(3, compressed.length)
        .struct(5, (w) => {
          w.i32(1, vals.length).i32(2, 0).i32(3, 3).i32(4, 3) // num_values, PLAIN, RLE, RLE
        })
        .finish()
      cols.push({ offset, size: header.length + compressed.length, uncompressed: header.length + body.length, numValues: vals.length })
      chunks.push(header, compressed)
      offset += header.length + compressed.length
    }
    rowGroups.push({ cols, rows: r1 - r0 })
  }
  const meta = new ThriftWriter()
    .i32(1, 1)
    .listStruct(2, [null, ...columns], (w, c) => {
      if (c === null) w.binary(4, 'schema').i32(5, columns.length)
      else {
        w.i32(1, PHYSICAL[c.type]).i32(3, c.optional ? 1 : 0).binary(4, c.name)
        if (c.type === 'string') w.i32(6, 0) // UTF8
      }
    })
    .i64(3, numRows)
    .listStruct(4, rowGroups, (w, rg) => {
      w.listStruct(1, rg.cols.map((c, i) => ({ ...c, col: columns[i]! })), (cw, c) => {
        cw.i64(2, c.offset).struct(3, (m) => {
          m.i32(1, PHYSICAL[c.col.type])
            .listI32(2, [0, 3])
            .listBinary(3, [c.col.name])
            .i32(4, CODEC[codec])
            .i64(5, c.numValues)
            .i64(6, c.uncompressed)
            .i64(7, c.size)
            .i64(9, c.offset)
        })
      })
      w.i64(2, rg.cols.reduce((s, c) => s + c.uncompressed, 0)).i64(3, rg.rows)
    })
    .binary(6, 'skipbench mini-parquet')
    .finish()
  const len = Buffer.alloc(4)
  len.writeUInt32LE(meta.length)
  chunks.push(meta, len, Buffer.from('PAR1'))
  return Buffer.concat(chunks)
}

export function writeParquet(path: string, columns: MiniColumn[], opts: MiniParquetOptions = {}): void {
  fs.writeFileSync(path, buildParquet(columns, opts))
}
