/**
 * Datasets for the UI: the list (manifests under <dataDir>/datasets), the shipped corpus, and imports running in
 * this process with progress events and cancellation.
 */
import { randomUUID } from 'node:crypto'
import type { DatasetInfo, DatasetList, ImportRequest, ImportState } from '../contract/api.js'
import { ensureDefaultCorpus, importDataset, isDefaultCorpusReady, listDatasets, type ImportProgress } from '../data/index.js'
import type { z } from 'zod'
import type { ImportRequest as ImportRequestSchema } from '../contract/api.js'
import { isAbsolute, resolve } from 'node:path'
import type { ApiHandlers } from '../contract/api.js'
import type { Context } from './context.js'
import { notFound } from './errors.js'
import { globBase } from './paths.js'
import type { ServiceState } from './state.js'

interface Running {
  state: ImportState
  ac: AbortController
}

export class Imports {
  private readonly all = new Map<string, Running>()

  constructor(private readonly ctx: () => Context) {}

  list(): DatasetList {
    const dataDir = this.ctx().dataDir
    const datasets: DatasetInfo[] = listDatasets(dataDir).map((d) => ({
      name: d.name,
      dir: d.dir,
      ok: d.ok,
      error: d.error ?? null,
      tokenizer: d.tokenizer ?? null,
      vocabSize: d.vocabSize ?? null,
      trainTokens: d.trainTokens ?? null,
      valTokens: d.valTokens ?? null,
      shards: d.shards ?? null,
      sourceKind: d.sourceKind ?? null,
      createdAt: d.createdAt ?? null,
      description: d.description ?? null,
    }))
    const ready = (tokenizer: 'byte' | 'gpt2') => {
      try {
        return isDefaultCorpusReady({ dataDir, tokenizer })
      } catch {
        return false
      }
    }
    return { datasets, defaultCorpus: { byte: ready('byte'), gpt2: ready('gpt2') }, imports: [...this.all.values()].map((r) => r.state) }
  }

  prepareCorpus(tokenizer: 'byte' | 'gpt2'): ImportState {
    const name = tokenizer === 'byte' ? 'default' : 'default-gpt2'
    return this.start(name, (onProgress, signal) => ensureDefaultCorpus({ dataDir: this.ctx().dataDir, tokenizer, force: false, onProgress, signal }))
  }

  importDataset(req: z.output<typeof ImportRequestSchema>): ImportState {
    return this.start(req.name, (onProgress, signal) =>
      importDataset({
        dataDir: this.ctx().dataDir,
        name: req.name,
        from: req.from,
        format: req.format,
        tokenizer: req.tokenizer,
        overwrite: req.overwrite,
        ...(req.valFraction !== undefined ? { valFraction: req.valFraction } : {}),
        ...(req.textField ? { textField: req.textField } : {}),
        onProgress,
        signal,
      }),
    )
  }

  cancel(importId: string): ImportState {
    const r = this.all.get(importId)
    if (!r) throw notFound(`import ${importId}`)
    if (r.state.status === 'running') r.ac.abort()
    return r.state
  }

  /** Abort every running import (closing the service). */
  abortAll(): void {
    for (const r of this.all.values()) if (r.state.status === 'running') r.ac.abort()
  }

  private start(name: string, run: (onProgress: (p: ImportProgress) => void, signal: AbortSignal) => Promise<unknown>): ImportState {
    for (const r of this.all.values())
      if (r.state.status === 'running' && r.state.name === name) return r.state // the same import is already running
    const importId = randomUUID()
    const ac = new AbortController()
    const state: ImportState = { importId, name, status: 'running', phase: 'scan', bytesRead: 0, bytesTotal: null, docs: 0, tokens: 0, etaMs: null, error: null, startedAt: new Date().toISOString() }
    const entry: Running = { state, ac }
    this.all.set(importId, entry)
    const publish = () => this.ctx().emit({ type: 'import-progress', state: { ...entry.state } })
    const onProgress = (p: ImportProgress) => {
      entry.state = { ...entry.state, phase: p.phase, bytesRead: p.bytesRead, bytesTotal: p.bytesTotal, docs: p.docs, tokens: p.tokens, etaMs: p.etaMs }
      publish()
    }
    // start on the next tick: the caller gets the state before the first progress event
    setImmediate(() => {
      run(onProgress, ac.signal)
        .then(() => {
          entry.state = { ...entry.state, status: 'done', phase: 'done', etaMs: 0 }
        })
        .catch((e: Error) => {
          entry.state = ac.signal.aborted ? { ...entry.state, status: 'cancelled', error: 'cancelled' } : { ...entry.state, status: 'failed', error: e.message }
        })
        .finally(publish)
    })
    publish()
    return state
  }
}

export function datasetHandlers(s: ServiceState): Pick<ApiHandlers, 'listDatasets' | 'prepareCorpus' | 'importDataset' | 'cancelImport'> {
  return {
    async listDatasets() {
      return s.imports.list()
    },
    async prepareCorpus({ tokenizer }) {
      return s.imports.prepareCorpus(tokenizer)
    },
    async importDataset(req) {
      const from = req.from.map((f) => {
        const abs = isAbsolute(f) ? f : resolve(s.ctx.dataDir, f)
        s.paths.resolve(globBase(abs), 'import source', 'read')
        return abs
      })
      return s.imports.importDataset({ ...req, from })
    },
    async cancelImport({ importId }) {
      return s.imports.cancel(importId)
    },
  }
}

export type { ImportRequest }
