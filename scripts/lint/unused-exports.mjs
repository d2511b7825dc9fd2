#!/usr/bin/env node
// Unused-export check (part of `npm run lint`): every export of a project source file must be imported by some
// other file (sources, tests, e2e, scripts, .vue components). Uses the TypeScript compiler: imports are resolved to
// the declarations they name, through re-exports (`export * from`, `export { x } from`). A module imported whole
// (`import * as m`, `await import(...)`) counts all its exports as used. Entry points (the app, the CLI, workers,
// config files) are roots and not checked. Types may be exported for the signatures that use them; values may not.
// The check fails on any unused export (there is no baseline: the exports that predated the check were deleted or
// un-exported in issue 11).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const FOLDERS = ['core', 'cli', 'main', 'preload', 'renderer/src', 'scripts', 'tests', 'e2e']
const ROOT_FILES = new Set([
  'cli/main.ts',
  'main/index.ts',
  'preload/index.ts',
  'core/jobs/worker-entry.ts',
  'core/data/import/tokenize-worker.ts',
  'renderer/src/main.ts',
])
const isRoot = (rel) => ROOT_FILES.has(rel) || rel.startsWith('scripts/') || rel.startsWith('e2e/') || rel.startsWith('tests/') || /\.test\.ts$|\.d\.ts$/.test(rel)

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (/\.(ts|mts|vue)$/.test(name)) out.push(p)
  }
  return out
}

const files = FOLDERS.flatMap((f) => walk(join(root, f), []))
const tsFiles = files.filter((f) => !f.endsWith('.vue'))
const options = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowJs: false, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true, types: [] }
const program = ts.createProgram(tsFiles, options)
const checker = program.getTypeChecker()

/** declarations (original symbols) that some other file uses */
const used = new Set()
const wholeModules = new Set()
const original = (s) => (s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)

function resolveSpecifier(spec, fromFile) {
  let r = ts.resolveModuleName(spec, fromFile, options, ts.sys).resolvedModule
  if (!r && spec.startsWith('.')) {
    // the bundler-style renderer imports ('../util/form' without an extension)
    for (const ext of ['.ts', '/index.ts']) {
      const p = resolve(dirname(fromFile), spec + ext)
      try {
        if (statSync(p).isFile()) return p
      } catch {
        // next
      }
    }
  }
  return r?.resolvedFileName
}

function markByName(file, name) {
  const sf = program.getSourceFile(file)
  const ms = sf && checker.getSymbolAtLocation(sf)
  if (!ms) return
  const s = checker.getExportsOfModule(ms).find((x) => x.name === name)
  if (s) used.add(original(s))
}

function visitImports(sf, text = null, fileName = sf.fileName) {
  const source = text ? ts.createSourceFile(fileName + '.ts', text, ts.ScriptTarget.ES2022, true) : sf
  const viaChecker = !text
  const visit = (n) => {
    if (ts.isImportDeclaration(n) || (ts.isExportDeclaration(n) && n.moduleSpecifier)) {
      const spec = n.moduleSpecifier.text
      const target = resolveSpecifier(spec, fileName)
      const clause = ts.isImportDeclaration(n) ? n.importClause : null
      if (ts.isExportDeclaration(n)) {
        // re-exports are followed when the re-exported name is used; `export * as ns` uses everything
        if (n.exportClause && ts.isNamespaceExport(n.exportClause) && target) wholeModules.add(target)
      } else if (clause && target) {
        if (clause.name) markByName(target, 'default')
        const nb = clause.namedBindings
        if (nb && ts.isNamespaceImport(nb)) wholeModules.add(target)
        else if (nb) for (const el of nb.elements) {
          if (viaChecker) used.add(original(checker.getSymbolAtLocation(el.name)))
          markByName(target, (el.propertyName ?? el.name).text)
        }
      }
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      const target = resolveSpecifier(n.arguments[0].text, fileName)
      if (target) wholeModules.add(target)
    }
    ts.forEachChild(n, visit)
  }
  visit(source)
}

for (const f of tsFiles) visitImports(program.getSourceFile(f))
for (const f of files.filter((x) => x.endsWith('.vue'))) {
  const m = /<script[^>]*>([\s\S]*?)<\/script>/.exec(readFileSync(f, 'utf8'))
  if (m) visitImports(null, m[1], f)
}

const unused = []
for (const f of tsFiles) {
  const rel = relative(root, f)
  if (isRoot(rel) || wholeModules.has(f)) continue
  const sf = program.getSourceFile(f)
  const ms = sf && checker.getSymbolAtLocation(sf)
  if (!ms) continue
  for (const s of checker.getExportsOfModule(ms)) {
    const o = original(s)
    // only what this file itself declares (its re-exports are checked where declared)
    if (!o.declarations?.some((d) => d.getSourceFile() === sf)) continue
    // types and interfaces may be exported for the signatures that use them; values must be used somewhere
    if (!(o.flags & ts.SymbolFlags.Value)) continue
    if (!used.has(o)) unused.push(`${rel}: ${s.name}`)
  }
}
unused.sort()
if (unused.length) {
  console.log(`unused exports (${unused.length}): delete them, or stop exporting what only the file itself uses\n  ${unused.join('\n  ')}`)
  process.exit(1)
}
console.log('unused exports: none')
