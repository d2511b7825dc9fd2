/**
 * Document sources: each turns input files into a stream of documents, reporting skips and bytes consumed.
 * They are pure readers; tokenization and shard writing happen in pipeline.ts.
 *
 * - txt:     one document per file; files over maxDocBytes are streamed as consecutive chunks of one document.
 * - jsonl:   one record per line (.jsonl, .ndjson, optionally .gz), text from a chosen field (dotted paths ok);
 *            lines are split on raw bytes so invalid UTF-8 is detected and over-long lines are skipped without
 *            being buffered.
 * - parquet: a chosen string column, one row group at a time (hyparquet + hyparquet-compressors).
 */
import fs from 'node:fs'
import path from 'node:path'
import { createGunzip } from 'node:zlib'
import { expandGlob, hasGlobMagic } from '../glob.js'
import { ImportError, type SkipReason } from './types.js'
import { decodeUtf8, isBlank, normalizeText, utf8CutPoint, type Utf8Mode } from './text.js'
import { jsonProblem } from '../../util/json-problem.js'

export interface DocItem {
  text: string
  /** continues the previous document (a chunk of an over-long one): no EOT before it, same split */
  cont?: boolean
}

/** Callbacks a source uses to report what it did. */
export interface SourceContext {
  skip(reason: SkipReason, where: string, detail?: string): void
  addBytes(n: number): void
  setFile(file: string | null): void
  /** a document was kept after U+FFFD replacement */
  utf8Replaced(): void
  /** a document was cut into chunks */
  chunked(): void
  signal: AbortSignal | undefined
}

export interface DocSource {
  files: string[]
  /** files skipped by extension while scanning folders */
  filesIgnored: number
  bytesTotal: number | null
  /** the fields/columns text was actually read from (filled while reading; Parquet may pick a column) */
  usedFields?: string[]
  docs(ctx: SourceContext): AsyncGenerator<DocItem, void, undefined>
}

export interface ExpandedInputs {
  files: string[]
  ignored: number
}

function walk(dir: string, out: string[]): void {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch (e) {
    throw new ImportError(`cannot read folder ${dir}: ${(e as Error).message}`)
  }
  for (const d of entries) {
    if (d.name.startsWith('.')) continue
    const p = path.join(dir, d.name)
    if (d.isDirectory()) walk(p, out)
    else if (d.isFile() || d.isSymbolicLink()) out.push(p)
  }
}

/**
 * Input paths → sorted files with one of `exts` (lower-case, with dot). A folder is searched recursively (hidden
 * entries skipped); a glob is expanded; an explicit file is taken whatever its extension.
 */
export function expandInputs(inputs: string | readonly string[], exts: readonly string[], cwd = process.cwd()): ExpandedInputs {
  const list = typeof inputs === 'string' ? [inputs] : inputs
  const files = new Set<string>()
  let ignored = 0
  const matches = (f: string): boolean => exts.some((e) => f.toLowerCase().endsWith(e))
  for (const input of list) {
    const abs = path.resolve(cwd, input)
    if (hasGlobMagic(input)) {
      const found = expandGlob(abs)
      if (found.length === 0) throw new ImportError(`no files match "${input}"`)
      for (const f of found) files.add(f)
      continue
    }
    let st: fs.Stats
    try {
      st = fs.statSync(abs)
    } catch {
      throw new ImportError(`no such file or folder: ${abs}`)
    }
    if (st.isDirectory()) {
      const all: string[] = []
      walk(abs, all)
      for (const f of all) {
        if (matches(f)) files.add(f)
        else ignored++
      }
    } else files.add(abs)
  }
  const sorted = [...files].sort()
  if (sorted.length === 0) throw new ImportError(`no ${exts.join(' / ')} files found in ${list.join(', ')}`)
  return { files: sorted, ignored }
}

export function totalSize(files: string[]): number {
  let s = 0
  for (const f of files) {
    try {
      s += fs.statSync(f).size
    } catch {
      /* reported when read */
    }
  }
  return s
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

export interface TextSourceOptions {
  invalidUtf8?: Utf8Mode
  /** documents over this many bytes are stored as consecutive chunks (default 64 MiB) */
  maxDocBytes?: number
}

// ---------------------------------------------------------------------------------------------------------------
// .txt

export const TXT_EXTENSIONS = ['.txt']

export function txtSource(inputs: string | readonly string[], opts: TextSourceOptions & { extensions?: string[]; cwd?: string } = {}): DocSource {
  const { files, ignored } = expandInputs(inputs, opts.extensions ?? TXT_EXTENSIONS, opts.cwd)
  const mode = opts.invalidUtf8 ?? 'skip'
  const maxDoc = opts.maxDocBytes ?? 64 * 1024 * 1024
  return {
    files,
    filesIgnored: ignored,
    bytesTotal: totalSize(files),
    async *docs(ctx) {
      for (const file of files) {
        checkAbort(ctx.signal)
        ctx.setFile(file)
        let fd: number
        let size: number
        try {
          fd = fs.openSync(file, 'r')
          size = fs.fstatSync(fd).size
        } catch (e) {
          ctx.skip('unreadable', file, (e as Error).message)
          continue
        }
        try {
          if (size === 0) {
            ctx.skip('empty', file)
            continue
          }
          const buf = Buffer.allocUnsafe(Math.min(size, maxDoc))
          let pos = 0
          let carryLen = 0
          let first = true
          for (;;) {
            checkAbort(ctx.signal)
            let filled = carryLen
            while (filled < buf.length && pos < size) {
              const n = fs.readSync(fd, buf, filled, buf.length - filled, pos)
              if (n === 0) {
                size = pos // the file shrank while we read it
                break
              }
              filled += n
              pos += n
            }
            const eof = pos >= size
            const partLen = eof ? filled : utf8CutPoint(buf.subarray(0, filled))
            const part = buf.subarray(0, partLen)
            const partStart = pos - filled
            if (first && !eof) ctx.chunked()
            ctx.addBytes(partLen)
            const dec = decodeUtf8(part, mode)
            if (!dec) ctx.skip('invalidUtf8', first && eof ? file : `${file} @ byte ${partStart}`)
            else {
              if (dec.replaced) ctx.utf8Replaced()
              const text = normalizeText(dec.text)
              if (!isBlank(text)) {
                yield first ? { text } : { text, cont: true }
                first = false
              } else if (first && eof) ctx.skip('empty', file)
            }
            buf.copy(buf, 0, partLen, filled)
            carryLen = filled - partLen
            if (eof && carryLen === 0) break
          }
        } catch (e) {
          if (ctx.signal?.aborted) throw e
          if ((e as NodeJS.ErrnoException).code) ctx.skip('unreadable', file, (e as Error).message)
          else throw e
        } finally {
          fs.closeSync(fd)
        }
      }
      ctx.setFile(null)
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// .jsonl / .jsonl.gz

export const JSONL_EXTENSIONS = ['.jsonl', '.jsonl.gz', '.ndjson', '.ndjson.gz']

export interface JsonlSourceOptions extends TextSourceOptions {
  /** record field holding the text (dotted path allowed, e.g. "meta.text"); default "text" */
  textField?: string
  /** lines longer than this are skipped as 'tooLong' without being held in memory (default 64 MiB) */
  maxLineBytes?: number
  cwd?: string
}

function getField(obj: unknown, fieldPath: string[]): unknown {
  let v: unknown = obj
  for (const k of fieldPath) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}

/** Splits a text that is too long for one document into line-aligned chunks of at most maxChars characters. */
function* chunkString(text: string, maxChars: number): Generator<string> {
  let p = 0
  while (p < text.length) {
    let q = Math.min(text.length, p + maxChars)
    if (q < text.length) {
      const nl = text.lastIndexOf('\n', q - 1)
      if (nl > p + maxChars / 2) q = nl + 1
      else {
        const c = text.charCodeAt(q - 1)
        if (c >= 0xd800 && c <= 0xdbff) q--
      }
    }
    yield text.slice(p, q)
    p = q
  }
}

export function* emitText(text: string, maxDocBytes: number, ctx: SourceContext): Generator<DocItem> {
  // a UTF-16 code unit is at most 3 UTF-8 bytes
  if (text.length * 3 <= maxDocBytes || Buffer.byteLength(text, 'utf8') <= maxDocBytes) {
    yield { text }
    return
  }
  ctx.chunked()
  let first = true
  for (const piece of chunkString(text, Math.max(1024, Math.floor(maxDocBytes / 3)))) {
    yield first ? { text: piece } : { text: piece, cont: true }
    first = false
  }
}

export function jsonlSource(inputs: string | readonly string[], opts: JsonlSourceOptions = {}): DocSource {
  const { files, ignored } = expandInputs(inputs, JSONL_EXTENSIONS, opts.cwd)
  const mode = opts.invalidUtf8 ?? 'skip'
  const field = opts.textField ?? 'text'
  const fieldPath = field.split('.')
  const maxLine = opts.maxLineBytes ?? 64 * 1024 * 1024
  const maxDoc = opts.maxDocBytes ?? 64 * 1024 * 1024
  return {
    files,
    filesIgnored: ignored,
    bytesTotal: totalSize(files),
    async *docs(ctx) {
      let kept = 0
      let missingAtStart = 0
      const keysSeen = new Set<string>()
      for (const file of files) {
        checkAbort(ctx.signal)
        ctx.setFile(file)
        const gz = file.toLowerCase().endsWith('.gz')
        let raw: fs.ReadStream
        try {
          fs.accessSync(file, fs.constants.R_OK)
          raw = fs.createReadStream(file, { highWaterMark: 1024 * 1024 })
        } catch (e) {
          ctx.skip('unreadable', file, (e as Error).message)
          continue
        }
        let stream: NodeJS.ReadableStream = raw
        if (gz) {
          raw.on('data', (c: Buffer | string) => ctx.addBytes(c.length))
          const gunzip = createGunzip()
          raw.on('error', (e) => gunzip.destroy(e))
          stream = raw.pipe(gunzip)
        }
        let lineNo = 0
        let parts: Buffer[] = []
        let partsLen = 0
        let overlong = false
        let sawBytes = false
        const handleLine = (line: Buffer): DocItem[] => {
          lineNo++
          let end = line.length
          if (end > 0 && line[end - 1] === 0x0d) end--
          const bytes = line.subarray(0, end)
          let blank = true
          for (let i = 0; i < bytes.length; i++) {
            const b = bytes[i]!
            if (b !== 0x20 && b !== 0x09 && b !== 0x0d) {
              blank = false
              break
            }
          }
          if (blank) return []
          const where = `${file}:${lineNo}`
          const dec = decodeUtf8(bytes, mode)
          if (!dec) {
            ctx.skip('invalidUtf8', where)
            return []
          }
          let rec: unknown
          try {
            rec = JSON.parse(dec.text)
          } catch (e) {
            ctx.skip('malformedJson', where, jsonProblem(e))
            return []
          }
          if (rec !== null && typeof rec === 'object' && !Array.isArray(rec) && keysSeen.size < 50) for (const k of Object.keys(rec)) keysSeen.add(k)
          const v = getField(rec, fieldPath)
          if (v === undefined || v === null) {
            ctx.skip('missingField', where)
            if (kept === 0 && ++missingAtStart >= 1000)
              throw new ImportError(
                `the field "${field}" is missing in the first ${missingAtStart} records of ${file}` +
                  (keysSeen.size ? `; fields seen: ${[...keysSeen].join(', ')}` : '; the records are not JSON objects') +
                  '. Choose the text field with --text-field',
              )
            return []
          }
          if (typeof v !== 'string') {
            ctx.skip('wrongType', where, `field "${field}" is ${Array.isArray(v) ? 'an array' : typeof v}`)
            return []
          }
          if (dec.replaced) ctx.utf8Replaced()
          const text = normalizeText(v)
          if (isBlank(text)) {
            ctx.skip('empty', where)
            return []
          }
          kept++
          return [...emitText(text, maxDoc, ctx)]
        }
        try {
          for await (const chunkAny of stream) {
            checkAbort(ctx.signal)
            const chunk = chunkAny as Buffer
            sawBytes ||= chunk.length > 0
            if (!gz) ctx.addBytes(chunk.length)
            let start = 0
            for (;;) {
              const nl = chunk.indexOf(0x0a, start)
              const end = nl < 0 ? chunk.length : nl
              const seg = chunk.subarray(start, end)
              if (!overlong) {
                if (partsLen + seg.length > maxLine) {
                  overlong = true
                  parts = []
                  partsLen = 0
                } else if (seg.length > 0) {
                  parts.push(Buffer.from(seg))
                  partsLen += seg.length
                }
              }
              if (nl < 0) break
              if (overlong) {
                lineNo++
                ctx.skip('tooLong', `${file}:${lineNo}`, `line longer than ${maxLine} bytes`)
                overlong = false
              } else {
                const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partsLen)
                parts = []
                partsLen = 0
                for (const item of handleLine(line)) yield item
              }
              start = nl + 1
            }
          }
          if (overlong) {
            lineNo++
            ctx.skip('tooLong', `${file}:${lineNo}`, `line longer than ${maxLine} bytes`)
          } else if (partsLen > 0) for (const item of handleLine(Buffer.concat(parts, partsLen))) yield item
        } catch (e) {
          if (e instanceof ImportError || ctx.signal?.aborted) throw e
          const err = e as NodeJS.ErrnoException
          if (gz && (err.code?.startsWith('Z_') || /unexpected end|incorrect header|invalid/i.test(err.message)))
            throw new ImportError(`${file}: corrupt or truncated gzip data after line ${lineNo} (${err.message})`)
          if (err.code && !sawBytes) ctx.skip('unreadable', file, err.message)
          else throw new ImportError(`${file}: read failed after line ${lineNo}: ${err.message}`)
        } finally {
          raw.destroy()
        }
        if (!sawBytes) ctx.skip('empty', file)
      }
      ctx.setFile(null)
    },
  }
}

/** An in-memory list of documents (the shipped corpus, tests). */
export function arraySource(texts: readonly string[]): DocSource {
  const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, 'utf8'), 0)
  return {
    files: [],
    filesIgnored: 0,
    bytesTotal: bytes,
    async *docs(ctx) {
      for (let i = 0; i < texts.length; i++) {
        checkAbort(ctx.signal)
        const t = texts[i]!
        ctx.addBytes(Buffer.byteLength(t, 'utf8'))
        const text = normalizeText(t)
        if (isBlank(text)) ctx.skip('empty', `document ${i}`)
        else yield { text }
      }
    },
  }
}
