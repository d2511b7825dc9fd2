/**
 * TensorBoard event files from a stored run's metrics (`skipbench runs export ID --format tensorboard`), written
 * from scratch: TFRecord framing (uint64 length, masked CRC32C of the length, the record, masked CRC32C of it) around
 * `tensorflow.Event` protobufs — a first event with file_version "brain.Event:2", then one event per (step, metric)
 * with a scalar summary value (tag = the metric key, simple_value = float32). TensorBoard, Aim and W&B sync read them.
 */
import { hostname } from 'node:os'

// ------------------------------------------------------------------------------------------------ CRC32C

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32C (Castagnoli), as TFRecord uses. */
function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
function maskedCrc32c(buf: Uint8Array): number {
  const c = crc32c(buf)
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0
}

function tfrecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4)
  out.writeBigUInt64LE(BigInt(data.length), 0)
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8)
  Buffer.from(data).copy(out, 12)
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length)
  return out
}

// ------------------------------------------------------------------------------------------------ protobuf (encode)

function varint(n: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(n))
  const out: number[] = []
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
  return out
}
const key = (field: number, wire: number) => varint((field << 3) | wire)
const bytesField = (field: number, b: Uint8Array) => [...key(field, 2), ...varint(b.length), ...b]
function doubleField(field: number, v: number): number[] {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(v)
  return [...key(field, 1), ...b]
}
function floatField(field: number, v: number): number[] {
  const b = Buffer.alloc(4)
  b.writeFloatLE(v)
  return [...key(field, 5), ...b]
}

/** Event { wall_time = 1 (double); step = 2 (int64); file_version = 3 (string); summary = 5 (Summary) } */
function fileVersionEvent(wallTime: number): Uint8Array {
  return Uint8Array.from([...doubleField(1, wallTime), ...bytesField(3, Buffer.from('brain.Event:2'))])
}

/** Summary { value = 1 (Value { tag = 1 (string); simple_value = 2 (float) }) } */
function scalarEvent(wallTime: number, step: number, tag: string, value: number): Uint8Array {
  const v = Uint8Array.from([...bytesField(1, Buffer.from(tag, 'utf8')), ...floatField(2, value)])
  const summary = Uint8Array.from(bytesField(1, v))
  return Uint8Array.from([...doubleField(1, wallTime), ...key(2, 0), ...varint(step), ...bytesField(5, summary)])
}

export interface ScalarSeries {
  key: string
  steps: number[]
  values: number[]
}

/**
 * One run's event file in memory: its standard name (events.out.tfevents.<time>.<host>) and bytes. Points are ordered
 * by step, then key. NaN values are written as NaN (TensorBoard shows them as gaps).
 */
export function tensorboardEventFile(series: ScalarSeries[], o: { wallTime?: (step: number) => number } = {}): { name: string; data: Buffer; events: number } {
  const now = Date.now() / 1000
  const wall = o.wallTime ?? (() => now)
  const points: { step: number; key: string; value: number }[] = []
  for (const s of series) s.steps.forEach((st, i) => points.push({ step: st, key: s.key, value: s.values[i]! }))
  points.sort((a, b) => a.step - b.step || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const parts: Buffer[] = [tfrecord(fileVersionEvent(now))]
  for (const p of points) parts.push(tfrecord(scalarEvent(wall(p.step), p.step, p.key, p.value)))
  return { name: `events.out.tfevents.${Math.floor(now)}.${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}`, data: Buffer.concat(parts), events: points.length }
}
