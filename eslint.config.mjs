// Lint, including the layering rules of docs/architecture.md (VS Code-style "code-layering"):
// a bad import fails `npm run lint` with a message naming the allowed layers.
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import vueParser from 'vue-eslint-parser'

// Each entry is a regular expression over the import specifier (relative paths included).
const NODE_BUILTINS = '^(node:.*|fs|path|os|child_process|worker_threads|crypto|url|zlib|stream|util|events|http|net)(/.*)?$'
const ELECTRON = '^electron(/.*)?$'
const VUE = '^(vue|vue-echarts)(/.*)?$'
const ENGINES_DB = '^(better-sqlite3|onnxruntime-node|@tensorflow/.*)$'
const UI_FOLDERS = '(^|/)(main|renderer|preload|cli)/'
// test-only code (test-support.ts, test-helpers.ts, testing/ folders, vitest): production files never import it
const TEST_ONLY = '(^|/)(test-support|test-helpers)(\\.[jt]s)?$|(^|/)testing/|^vitest(/.*)?$'

const layer = (files, regexes, message) => ({
  files,
  // tests and their helpers may reach across layers to build fixtures
  ignores: ['**/*.test.ts', '**/*.suite.ts', '**/test-support.ts', '**/test-helpers.ts', '**/testing/**'],
  rules: {
    'no-restricted-imports': ['error', { patterns: [
      ...regexes.map((regex) => ({ regex, message })),
      { regex: TEST_ONLY, message: 'production code must not import test-only code (test-support, test-helpers, testing/, vitest): move what production needs out of it.' },
    ] }],
  },
})

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'reports/**', 'test-results/**', 'playwright-report/**', '**/*.d.ts', 'tests/fixtures/**', 'resources/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  // --- layering (docs/architecture.md) ---
  layer(['core/**/*.ts'], [ELECTRON, VUE, UI_FOLDERS],
    'core/ is Electron-, Vue- and UI-free: it may import only core/**, node built-ins and engine/database libraries.'),
  layer(['core/config/**/*.ts'], [NODE_BUILTINS, ELECTRON, VUE, ENGINES_DB, UI_FOLDERS, '^\\.\\./(?!util/suggest|user-errors)'],
    'core/config is the run config\'s one home, shared with the renderer: zod, its own files, core/util/suggest and core/user-errors (the pure UserError base) only; no node, engines, databases or other core/ folders.'),
  layer(['core/contract/**/*.ts', 'core/report/**/*.ts'], [NODE_BUILTINS, ELECTRON, VUE, ENGINES_DB, UI_FOLDERS, '^\\.\\./(?!contract/|report/|config/)'],
    'core/contract and core/report are shared with the renderer: only types, zod schemas, core/config and pure builders; no node, engines or databases.'),
  layer(['cli/**/*.ts'], [ELECTRON, VUE, '(^|/)(main|renderer|preload)/'],
    'cli/ is a thin layer over core/: it may import core/** and node only.'),
  layer(['main/**/*.ts'], ['(^|/)renderer/', VUE],
    'main/ wires core/ to Electron; it must not import renderer code.'),
  layer(['preload/**/*.ts'], ['(^|/)core/(?!contract/)', '(^|/)(main|renderer)/', NODE_BUILTINS, VUE],
    'preload/ may import only core/contract/** and electron (contextBridge, ipcRenderer).'),
  layer(['renderer/**/*.{ts,vue}'], [NODE_BUILTINS, ELECTRON, ENGINES_DB, '(^|/)core/(?!contract/|report/|config/)', '(^|/)(main|cli|preload)/'],
    'renderer/ may import only core/contract/** (types, schemas), core/config/** (the run config: schemas, defaults, derived facts), core/report/** (pure chart/report builders), vue and echarts.'),
)
