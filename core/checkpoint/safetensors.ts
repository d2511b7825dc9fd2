/**
 * safetensors read/write (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}}`, then the tensor
 * bytes (offsets relative to the end of the header).
 *
 * Read: F32, BF16 (widened exactly: bits << 16), F16 and F64, always returned as float32 (spec H.4/H.15).
 * Write: F32 only. Files are written to a temporary name and renamed into place.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs'
import { numel } from '../model/params.js'
import { jsonProblem } from '../util/json-problem.js'
import { UserError } from '../user-errors.js'

export class CheckpointError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'CheckpointError'
  }
}

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16' | 'F64'
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2, F64: 8 }
/** the widest plausible header; the format itself caps it at 100 MB */
const MAX_HEADER = 100_000_000

export interface TensorEntry {
  name: string
  dtype: string
  shape: number[]
  /** absolute byte offsets in the file */
  begin: number
  end: number
}

export interface SafetensorsHeader {
  path: string
  tensors: TensorEntry[]
  metadata: Record<string, string>
  fileSize: number
}

export interface Tensor {
  shape: number[]
  data: Float32Array
}

export interface LoadedTensor extends Tensor {
  /** dtype on disk */
  dtype: SafetensorsDtype
}

function readExact(fd: number, buf: Uint8Array, position: number, path: string): void {
  let off = 0
  while (off < buf.length) {
    const n = readSync(fd, buf, off, Math.min(buf.length - off, 1 << 30), position + off)
    if (n === 0) throw new CheckpointError(`${path}: truncated safetensors file (unexpected end of file at byte ${position + off})`)
    off += n
  }
}

function parseHeader(fd: number, path: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size
  if (fileSize < 8) throw new CheckpointError(`${path}: not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`)
  const lenBuf = new Uint8Array(8)
  readExact(fd, lenBuf, 0, path)
  const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true))
  if (n < 2 || n > MAX_HEADER || 8 + n > fileSize)
    throw new CheckpointError(`${path}: corrupt or truncated safetensors file (header length ${n}, file size ${fileSize} bytes)`)
  const hb = new Uint8Array(n)
  readExact(fd, hb, 8, path)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb))
  } catch (e) {
    throw new CheckpointError(`${path}: corrupt safetensors header (${jsonProblem(e)})`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: corrupt safetensors header (not a JSON object)`)
  const dataStart = 8 + n
  const dataLen = fileSize - dataStart
  const tensors: TensorEntry[] = []
  let metadata: Record<string, string> = {}
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object') metadata = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, String(x)]))
      continue
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    const bad = (why: string) => new CheckpointError(`${path}: corrupt safetensors header entry for tensor "${name}": ${why}`)
    if (!e || typeof e.dtype !== 'string') throw bad('missing dtype')
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad('bad shape')
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || e.data_offsets.some((d) => !Number.isInteger(d) || d < 0)) throw bad('bad data_offsets')
    const [b, en] = e.data_offsets as [number, number]
    if (b > en || en > dataLen)
      throw new CheckpointError(
        `${path}: truncated or corrupt safetensors file: tensor "${name}" spans bytes [${b}, ${en}) of the data section, which has ${dataLen} bytes`,
      )
    const width = DTYPE_BYTES[e.dtype as SafetensorsDtype]
    if (width !== undefined && en - b !== numel(e.shape as number[]) * width)
      throw bad(`${en - b} bytes for shape [${(e.shape as number[]).join(', ')}] of ${e.dtype} (expected ${numel(e.shape as number[]) * width})`)
    tensors.push({ name, dtype: e.dtype, shape: e.shape as number[], begin: dataStart + b, end: dataStart + en })
  }
  return { path, tensors, metadata, fileSize }
}

/** Header only (names, dtypes, shapes, metadata); validates offsets against the file size. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path)
  try {
    return parseHeader(fd, path)
  } finally {
    closeSync(fd)
  }
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new CheckpointError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot open (${(e as Error).message})`)
  }
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * f * 2 ** -24
  if (e === 31) return f ? NaN : s * Infinity
  return s * (1 + f / 1024) * 2 ** (e - 15)
}

function decode(entry: TensorEntry, bytes: Uint8Array, path: string): Float32Array {
  const n = numel(entry.shape)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (entry.dtype) {
    case 'F32': {
      if (hostLittleEndian && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n)
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true)
      return out
    }
    case 'BF16': {
      // exact widening: the bf16 bits are the top half of the float32 bits
      const out = new Float32Array(n)
      const u = new Uint32Array(out.buffer)
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16
      return out
    }
    case 'F16': {
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true))
      return out
    }
    case 'F64': {
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true)
      return out
    }
    default:
      throw new CheckpointError(`${path}: tensor "${entry.name}" has dtype ${entry.dtype}; supported: F32, BF16, F16, F64`)
  }
}

/**
 * Read tensors (all, or those `filter` accepts) as float32. Throws CheckpointError naming the file and the tensor on
 * any truncation, corruption or unsupported dtype.
 */
export function readSafetensors(path: string, filter?: (name: string) => boolean): { tensors: Map<string, LoadedTensor>; metadata: Record<string, string> } {
  const fd = openFile(path)
  try {
    const h = parseHeader(fd, path)
    const tensors = new Map<string, LoadedTensor>()
    for (const e of h.tensors) {
      if (filter && !filter(e.name)) continue
      const buf = new Uint8Array(e.end - e.begin)
      readExact(fd, buf, e.begin, path)
      tensors.set(e.name, { shape: e.shape, dtype: e.dtype as SafetensorsDtype, data: decode(e, buf, path) })
    }
    return { tensors, metadata: h.metadata }
  } finally {
    closeSync(fd)
  }
}

/** float32 → bfloat16 bits, round to nearest even (NaN stays NaN) */
export function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length)
  const out = new Uint16Array(x.length)
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16
  }
  return out
}

/**
 * Write float32 tensors (in the given order) with optional string metadata; atomic (temp file + rename).
 * `dtype: 'BF16'` stores them rounded to bfloat16 (nearest even).
 */
export function writeSafetensors(path: string, tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}, opts: { dtype?: 'F32' | 'BF16' } = {}): void {
  const dtype = opts.dtype ?? 'F32'
  const width = DTYPE_BYTES[dtype]
  const list = [...tensors]
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length) header.__metadata__ = metadata
  let off = 0
  for (const [name, t] of list) {
    if (numel(t.shape) !== t.data.length)
      throw new CheckpointError(`cannot write tensor "${name}": ${t.data.length} values for shape [${t.shape.join(', ')}]`)
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + width * t.data.length] }
    off += width * t.data.length
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8) // pad so the data section is 8-byte aligned
  const hb = Buffer.from(json, 'utf8')
  const lenBuf = Buffer.alloc(8)
  lenBuf.writeBigUInt64LE(BigInt(hb.length))
  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, lenBuf)
    writeSync(fd, hb)
    for (const [, t] of list) {
      let bytes: Uint8Array
      if (dtype === 'BF16') {
        const h = toBf16(t.data)
        bytes = new Uint8Array(h.length * 2)
        const dv = new DataView(bytes.buffer)
        h.forEach((x, i) => dv.setUint16(2 * i, x, true))
      } else if (hostLittleEndian) bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)
      else {
        bytes = new Uint8Array(t.data.length * 4)
        const dv = new DataView(bytes.buffer)
        t.data.forEach((x, i) => dv.setFloat32(4 * i, x, true))
      }
      for (let o = 0; o < bytes.length; o += 1 << 30) writeSync(fd, bytes, o, Math.min(1 << 30, bytes.length - o))
    }
  } catch (e) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
  closeSync(fd)
  renameSync(tmp, path)
}
