import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from './open.js'
import { openStore } from './store.js'
import { tempDir, type TempDir } from './test-helpers.js'

const NODE_BUILD = fileURLToPath(new URL('../../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url))

let tmp: TempDir
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => {
  delete process.env.SKIPBENCH_SQLITE_BINDING
  tmp.cleanup()
})

describe('openDatabase', () => {
  it('loads the addon from an explicit nativeBinding path (the Electron-ABI build, ADR 0002)', () => {
    const db = openDatabase(tmp.file('a.db'), { nativeBinding: NODE_BUILD })
    expect(db.prepare('SELECT 1').pluck().get()).toBe(1)
    db.close()
    expect(() => openDatabase(tmp.file('b.db'), { nativeBinding: tmp.file('missing.node') })).toThrow(/missing\.node/)
  })

  it('takes the binding from SKIPBENCH_SQLITE_BINDING when none is passed', () => {
    process.env.SKIPBENCH_SQLITE_BINDING = tmp.file('nope.node')
    expect(() => openStore(tmp.file('c.db'))).toThrow(/nope\.node/)
    process.env.SKIPBENCH_SQLITE_BINDING = NODE_BUILD
    openStore(tmp.file('c.db')).close()
  })

  it('creates missing parent folders; read-only opens neither create nor migrate', () => {
    const path = tmp.file('deep/er/d.db')
    openStore(path).close()
    const ro = openStore(path, { readonly: true })
    expect(ro.migration).toBeNull()
    expect(() => ro.runs.create({ name: 'x', kind: 'dense', config: {} })).toThrow(/readonly/)
    ro.close()
    expect(() => openStore(tmp.file('absent.db'), { readonly: true })).toThrow()
  })
})
