#!/usr/bin/env node
// Renders resources/icon-<size>.png from the same shapes as resources/icon.svg (a dependency-free rasteriser: rounded
// rectangles, dashed outlines and the skip arrow, 4×4 supersampled) and writes them with node:zlib. Run it after
// changing the icon: `node scripts/make-icons.mjs`.
import { writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'

const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)]
const BG = hex('#1f2937'), LAYER = hex('#60a5fa'), SKIP = hex('#9ca3af'), ARROW = hex('#f59e0b')

function inRoundRect(x, y, x0, y0, w, h, r) {
  if (x < x0 || y < y0 || x > x0 + w || y > y0 + h) return false
  const cx = Math.min(Math.max(x, x0 + r), x0 + w - r), cy = Math.min(Math.max(y, y0 + r), y0 + h - r)
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
}
function onDashedOutline(x, y, x0, y0, w, h, r, t) {
  if (!inRoundRect(x, y, x0 - t / 2, y0 - t / 2, w + t, h + t, r + t / 2) || inRoundRect(x, y, x0 + t / 2, y0 + t / 2, w - t, h - t, Math.max(0, r - t / 2))) return false
  const along = y < y0 + 2 || y > y0 + h - 2 ? x - x0 : y - y0 + w
  return along % 18 < 10
}
function nearCurve(x, y) {
  // the skip arrow: a quadratic-ish arc from (36, 58) to (36, 190) bulging to x ≈ 15, and its head
  for (let i = 0; i <= 60; i++) {
    const t = i / 60, u = 1 - t
    const px = u ** 3 * 36 + 3 * u * u * t * 8 + 3 * u * t * t * 8 + t ** 3 * 36
    const py = u ** 3 * 58 + 3 * u * u * t * 100 + 3 * u * t * t * 150 + t ** 3 * 190
    if ((x - px) ** 2 + (y - py) ** 2 <= 16) return true
  }
  const seg = (ax, ay, bx, by) => {
    const dx = bx - ax, dy = by - ay, k = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return (x - ax - k * dx) ** 2 + (y - ay - k * dy) ** 2 <= 16
  }
  return seg(28, 178, 37, 192) || seg(37, 192, 48, 180)
}
function colourAt(x, y) {
  if (nearCurve(x, y)) return [...ARROW, 255]
  if (inRoundRect(x, y, 48, 44, 160, 28, 8) || inRoundRect(x, y, 48, 176, 160, 28, 8)) return [...LAYER, 255]
  if (onDashedOutline(x, y, 48, 88, 160, 28, 8, 4) || onDashedOutline(x, y, 48, 132, 160, 28, 8, 4)) return [...SKIP, 255]
  if (inRoundRect(x, y, 8, 8, 240, 240, 40)) return [...BG, 255]
  return [0, 0, 0, 0]
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (buf) => {
  let c = 0xffffffff
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4), crc = Buffer.alloc(4), td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  len.writeUInt32BE(data.length)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}
function png(size) {
  const S = 4, scale = 256 / size
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let j = 0; j < size; j++) {
    raw[j * (size * 4 + 1)] = 0
    for (let i = 0; i < size; i++) {
      const acc = [0, 0, 0, 0]
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const c = colourAt((i + (sx + 0.5) / S) * scale, (j + (sy + 0.5) / S) * scale)
          for (let k = 0; k < 3; k++) acc[k] += c[k] * c[3]
          acc[3] += c[3]
        }
      const o = j * (size * 4 + 1) + 1 + i * 4
      for (let k = 0; k < 3; k++) raw[o + k] = acc[3] ? Math.round(acc[k] / acc[3]) : 0
      raw[o + 3] = Math.round(acc[3] / (S * S))
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8
  ihdr[9] = 6
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}
for (const size of [32, 128, 256, 512]) writeFileSync(new URL(`../resources/icon-${size}.png`, import.meta.url), png(size))
console.log('resources/icon-{32,128,256,512}.png written')
