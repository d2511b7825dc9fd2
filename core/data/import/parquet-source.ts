/** The parquet document source: a chosen string column, one row group at a time (hyparquet + hyparquet-compressors). */
import fs from 'node:fs'
import { ImportError } from './types.js'
import { isBlank, normalizeText } from './text.js'
import { checkAbort, emitText, expandInputs, totalSize, type DocSource, type TextSourceOptions } from './sources.js'

// ---------------------------------------------------------------------------------------------------------------
// Parquet

export const PARQUET_EXTENSIONS = ['.parquet']

export interface ParquetSourceOptions extends TextSourceOptions {
  /** text column; default "text", else the first string column */
  textField?: string
  cwd?: string
}

const INVALID_UTF8 = Symbol('invalid-utf8')

interface ParquetColumnInfo {
  name: string
  type: string | undefined
  isString: boolean
  leaf: boolean
}

export function parquetSource(inputs: string | readonly string[], opts: ParquetSourceOptions = {}): DocSource {
  const { files, ignored } = expandInputs(inputs, PARQUET_EXTENSIONS, opts.cwd)
  const mode = opts.invalidUtf8 ?? 'skip'
  const maxDoc = opts.maxDocBytes ?? 64 * 1024 * 1024
  const usedFields: string[] = []
  return {
    files,
    filesIgnored: ignored,
    bytesTotal: totalSize(files),
    usedFields,
    async *docs(ctx) {
      const hyparquet = await import('hyparquet')
      const { compressors } = await import('hyparquet-compressors')
      const fatal = new TextDecoder('utf-8', { fatal: true })
      const lenient = new TextDecoder('utf-8')
      let replacedInGroup = 0
      const parsers = {
        stringFromBytes(bytes: Uint8Array): unknown {
          if (!bytes) return bytes
          try {
            return fatal.decode(bytes)
          } catch {
            if (mode === 'skip') return INVALID_UTF8
            replacedInGroup++
            return lenient.decode(bytes)
          }
        },
      }
      for (const file of files) {
        checkAbort(ctx.signal)
        ctx.setFile(file)
        let size: number
        try {
          size = fs.statSync(file).size
        } catch (e) {
          ctx.skip('unreadable', file, (e as Error).message)
          continue
        }
        if (size === 0) {
          ctx.skip('empty', file)
          continue
        }
        let asyncBuf: Awaited<ReturnType<typeof hyparquet.asyncBufferFromFile>>
        let metadata: Awaited<ReturnType<typeof hyparquet.parquetMetadataAsync>>
        try {
          asyncBuf = await hyparquet.asyncBufferFromFile(file)
          metadata = await hyparquet.parquetMetadataAsync(asyncBuf)
        } catch (e) {
          throw new ImportError(`${file}: not a readable Parquet file (${(e as Error).message})`)
        }
        const tree = hyparquet.parquetSchema(metadata)
        const columns: ParquetColumnInfo[] = tree.children.map((c) => {
          const el = c.element
          const leaf = c.children.length === 0
          const isString =
            leaf && el.type === 'BYTE_ARRAY' && (el.converted_type === 'UTF8' || el.logical_type?.type === 'STRING' || el.converted_type === undefined)
          return { name: el.name, type: el.type, isString, leaf }
        })
        const strings = columns.filter((c) => c.isString).map((c) => c.name)
        let col: string
        if (opts.textField !== undefined) {
          const c = columns.find((x) => x.name === opts.textField)
          if (!c)
            throw new ImportError(
              `${file}: no column "${opts.textField}"; columns: ${columns.map((x) => x.name).join(', ')}` + (strings.length ? ` (text columns: ${strings.join(', ')})` : ''),
            )
          if (!c.isString)
            throw new ImportError(`${file}: column "${opts.textField}" is not a string column (${c.leaf ? c.type : 'nested'}); text columns: ${strings.join(', ') || 'none'}`)
          col = c.name
        } else if (strings.includes('text')) col = 'text'
        else if (strings.length > 0) col = strings[0]!
        else throw new ImportError(`${file}: no string column to read text from; columns: ${columns.map((x) => `${x.name} (${x.leaf ? x.type : 'nested'})`).join(', ')}`)
        if (!usedFields.includes(col)) usedFields.push(col)

        let rowStart = 0
        let accounted = 0
        for (let g = 0; g < metadata.row_groups.length; g++) {
          checkAbort(ctx.signal)
          const rg = metadata.row_groups[g]!
          const rowEnd = rowStart + Number(rg.num_rows)
          let values: unknown[] = []
          replacedInGroup = 0
          try {
            await hyparquet.parquetRead({
              file: asyncBuf,
              metadata,
              columns: [col],
              rowStart,
              rowEnd,
              compressors,
              parsers,
              onComplete: (rows: unknown[][]) => {
                values = rows.map((r) => r[0])
              },
            })
          } catch (e) {
            throw new ImportError(`${file}: cannot read row group ${g} (rows ${rowStart}..${rowEnd - 1}): ${(e as Error).message}`)
          }
          const groupBytes = rg.columns.reduce((s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0n), 0)
          accounted += groupBytes
          ctx.addBytes(groupBytes)
          for (let i = 0; i < values.length; i++) {
            const v = values[i]
            const where = `${file} row ${rowStart + i}`
            if (v === undefined || v === null) ctx.skip('missingField', where)
            else if (v === INVALID_UTF8) ctx.skip('invalidUtf8', where)
            else if (typeof v !== 'string') ctx.skip('wrongType', where, `column "${col}" holds ${typeof v}`)
            else {
              const text = normalizeText(v)
              if (isBlank(text)) ctx.skip('empty', where)
              else for (const item of emitText(text, maxDoc, ctx)) yield item
            }
          }
          for (let i = 0; i < replacedInGroup; i++) ctx.utf8Replaced()
          rowStart = rowEnd
        }
        if (size > accounted) ctx.addBytes(size - accounted)
        if (metadata.row_groups.length === 0 || Number(metadata.num_rows) === 0) ctx.skip('empty', file)
      }
      ctx.setFile(null)
    },
  }
}
