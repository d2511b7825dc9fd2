/**
 * INDEPENDENT readers of the exported files, for the tests (core/export/export.test.ts, e2e/tracker.spec.ts): they
 * share no code with the writers. TFRecord framing with every CRC checked by a bit-by-bit CRC-32C (not the writer's
 * table), a generic protobuf wire-format decoder, TensorBoard's Event/Summary fields read from it; Parquet through
 * hyparquet (a third-party reader).
 */

function crc32cBitwise(b: Uint8Array): number {
  let crc = ~0 >>> 0
  for (const byte of b) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}
const unmask = (m: number) => {
  const r = (m - 0xa282ead8) >>> 0
  return ((r << 15) | (r >>> 17)) >>> 0
}

/** TFRecord: [u64 len][u32 masked crc(len)][data][u32 masked crc(data)]; throws on a bad CRC or a torn record. */
export function readTfRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let p = 0
  while (p < buf.length) {
    if (p + 12 > buf.length) throw new Error(`torn record header at byte ${p}`)
    const lenBytes = buf.subarray(p, p + 8)
    const len = Number(buf.readBigUInt64LE(p))
    if (unmask(buf.readUInt32LE(p + 8)) !== crc32cBitwise(lenBytes)) throw new Error(`bad length CRC at byte ${p}`)
    if (p + 12 + len + 4 > buf.length) throw new Error(`torn record at byte ${p}`)
    const data = buf.subarray(p + 12, p + 12 + len)
    if (unmask(buf.readUInt32LE(p + 12 + len)) !== crc32cBitwise(data)) throw new Error(`bad data CRC at byte ${p}`)
    out.push(data)
    p += 12 + len + 4
  }
  return out
}

export type ProtoField = { field: number; wire: number; value: bigint | Buffer }
/** Generic protobuf wire-format decoder: varint (0), fixed64 (1), length-delimited (2), fixed32 (5). */
export function decodeProtobuf(b: Buffer): ProtoField[] {
  const out: ProtoField[] = []
  let p = 0
  const varint = () => {
    let v = 0n
    let shift = 0n
    for (;;) {
      const byte = b[p++]!
      v |= BigInt(byte & 0x7f) << shift
      if (!(byte & 0x80)) return v
      shift += 7n
    }
  }
  while (p < b.length) {
    const k = Number(varint())
    const field = k >> 3
    const wire = k & 7
    if (wire === 0) out.push({ field, wire, value: varint() })
    else if (wire === 1) out.push({ field, wire, value: b.subarray(p, (p += 8)) })
    else if (wire === 5) out.push({ field, wire, value: b.subarray(p, (p += 4)) })
    else if (wire === 2) {
      const n = Number(varint())
      out.push({ field, wire, value: b.subarray(p, (p += n)) })
    } else throw new Error(`wire type ${wire}`)
  }
  return out
}

/**
 * A TensorBoard event file: Event { wall_time = 1; step = 2; file_version = 3; summary = 5 }, Summary { value = 1 },
 * Value { tag = 1; simple_value = 2 (float) }.
 */
export function readScalarEvents(buf: Buffer): { fileVersion: string | null; scalars: { wall: number; step: number; tag: string; value: number }[] } {
  const records = readTfRecords(buf)
  let fileVersion: string | null = null
  const scalars: { wall: number; step: number; tag: string; value: number }[] = []
  for (const rec of records) {
    const ev = decodeProtobuf(rec)
    const fv = ev.find((f) => f.field === 3)
    if (fv) fileVersion = fv.value.toString()
    const summary = ev.find((f) => f.field === 5)
    if (!summary) continue
    const wall = (ev.find((f) => f.field === 1)!.value as Buffer).readDoubleLE(0)
    const step = Number(ev.find((f) => f.field === 2)?.value ?? 0n)
    for (const v of decodeProtobuf(summary.value as Buffer).filter((f) => f.field === 1)) {
      const value = decodeProtobuf(v.value as Buffer)
      scalars.push({ wall, step, tag: value.find((f) => f.field === 1)!.value.toString(), value: (value.find((f) => f.field === 2)!.value as Buffer).readFloatLE(0) })
    }
  }
  return { fileVersion, scalars }
}

/** A Parquet file's rows as objects (hyparquet: int64 columns come back as bigint). */
export async function readParquetRows(buf: Buffer): Promise<Record<string, unknown>[]> {
  const { parquetReadObjects } = await import('hyparquet')
  return parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer })
}
