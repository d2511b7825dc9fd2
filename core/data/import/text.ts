/**
 * Text normalisation and UTF-8 helpers used by every importer.
 *
 * The documented normalisation (so "text → shards → decoded text" round-trips up to it):
 * - a leading byte-order mark is removed;
 * - CRLF and lone CR become LF;
 * - lone UTF-16 surrogates (only possible from JSON "\ud800" escapes) become U+FFFD;
 * - nothing else: whitespace, control characters and Unicode forms are kept as they are.
 * Documents that are empty or whitespace-only are skipped.
 */

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const lenientDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false })

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string }

export function normalizeText(s: string): string {
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1)
  if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n')
  const w = s as unknown as WellFormed
  if (typeof w.isWellFormed === 'function' && !w.isWellFormed()) s = w.toWellFormed()
  return s
}

export function isBlank(s: string): boolean {
  return !/\S/.test(s)
}

export type Utf8Mode = 'skip' | 'replace'

/** Decodes UTF-8 (BOM dropped). Returns null for invalid input in 'skip' mode; `replaced` tells 'replace' mode hit. */
export function decodeUtf8(bytes: Uint8Array, mode: Utf8Mode): { text: string; replaced: boolean } | null {
  try {
    return { text: fatalDecoder.decode(bytes), replaced: false }
  } catch {
    if (mode === 'skip') return null
    return { text: lenientDecoder.decode(bytes), replaced: true }
  }
}

/**
 * Where to cut a full window of UTF-8 bytes when more bytes follow: after the last '\n' if it lies in the second
 * half of the window, else before the last (possibly incomplete) multi-byte character. Returns a value in
 * [1, bytes.length] (the window is assumed longer than 4 bytes).
 */
export function utf8CutPoint(bytes: Uint8Array): number {
  const len = bytes.length
  const nl = bytes.lastIndexOf(0x0a)
  if (nl >= len / 2) return nl + 1
  let i = len - 1
  if (bytes[i]! < 0x80) return len
  while (i > 0 && (bytes[i]! & 0xc0) === 0x80 && len - i < 4) i--
  return i > 0 ? i : len
}
