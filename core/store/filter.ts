/**
 * The run filter language (issue 18), e.g.
 *
 *   model.n_layers >= 8 and val.loss < 2.1 and tag:baseline
 *   (status = completed or status = running) and not kind = dense
 *   note ~ "lr too low" and created >= 2026-12-01 and min(val.loss) < 3
 *
 * Hand-written tokenizer + recursive-descent parser → a small AST → PARAMETERISED SQL over the runs table and its
 * JSON columns. User text never becomes SQL text: column names and operators come from fixed tables below, config
 * paths and metric keys must match an allow-list grammar and are bound as parameters (json_extract(r.config, ?)),
 * and every value is a bound parameter. Limits: 2,000 characters, 200 tokens, nesting depth 32.
 *
 * Grammar:
 *   expr    := andExpr ('or' andExpr)*
 *   andExpr := unary ('and' unary)*
 *   unary   := 'not' unary | '(' expr ')' | 'tag' ':' value | term
 *   term    := field op value
 *   field   := name ('.' name | '/' name)*  |  ('last'|'min'|'max') '(' metric ')'
 *   op      := '=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '~' (contains, case-insensitive) | '!~'
 *   value   := number | "string" | 'string' | date (2026-12-01[T12:00:00Z]) | true | false | null | bareword
 *
 * Fields: config sections (model.*, training.*, optimizer.*, controller.*, data.*, engine.*, or config.<path>);
 * metrics (train.*, val.*, sys.* or train/loss — the last value; min(…)/max(…) for the run's extremes); run fields
 * id, name, status, kind, seed, engine, backend, dataset, experiment, notes (note), tags (tag), experiment_notes,
 * experiment_tags (its JSON text, for ~), steps, tokens_per_sec,
 * created, started, ended (ISO dates, compared as text).
 */
import { StoreError } from './errors.js'

export class FilterError extends StoreError {
  constructor(message: string) {
    super(message)
    this.name = 'FilterError'
  }
}

const MAX_FILTER_LENGTH = 2000
const MAX_TOKENS = 200
const MAX_DEPTH = 32
const MAX_PATH_SEGMENTS = 8

// ------------------------------------------------------------------------------------------------ tokens

type TokKind = 'name' | 'number' | 'string' | 'date' | 'op' | 'lparen' | 'rparen' | 'colon' | 'dot' | 'slash' | 'end'
interface Tok {
  kind: TokKind
  text: string
  pos: number
}

const OPS = ['==', '!=', '<=', '>=', '!~', '=', '<', '>', '~'] as const
type Op = (typeof OPS)[number]

export function tokenize(src: string): Tok[] {
  if (src.length > MAX_FILTER_LENGTH) throw new FilterError(`the filter is ${src.length} characters; at most ${MAX_FILTER_LENGTH}`)
  const out: Tok[] = []
  let i = 0
  const push = (kind: TokKind, text: string, pos: number) => {
    out.push({ kind, text, pos })
    if (out.length > MAX_TOKENS) throw new FilterError(`the filter has more than ${MAX_TOKENS} tokens; simplify it`)
  }
  while (i < src.length) {
    const c = src[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    const start = i
    if (c === '(' || c === ')') {
      push(c === '(' ? 'lparen' : 'rparen', c, i++)
      continue
    }
    if (c === ':') {
      push('colon', c, i++)
      continue
    }
    if (c === '.' && !(out.at(-1)?.kind === 'op' && /\d/.test(src[i + 1] ?? ''))) {
      push('dot', c, i++)
      continue
    }
    if (c === '/') {
      push('slash', c, i++)
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (op) {
      push('op', op, i)
      i += op.length
      continue
    }
    if (c === '"' || c === "'") {
      let s = ''
      i++
      for (;;) {
        if (i >= src.length) throw new FilterError(`unterminated string starting at character ${start + 1}; close it with ${c}`)
        const d = src[i]!
        if (d === '\\' && i + 1 < src.length) {
          s += src[i + 1]
          i += 2
          continue
        }
        if (d === c) {
          i++
          break
        }
        s += d
        i++
      }
      push('string', s, start)
      continue
    }
    const date = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?Z?)?/.exec(src.slice(i))
    if (date) {
      push('date', date[0].replace(' ', 'T'), i)
      i += date[0].length
      continue
    }
    const num = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(src.slice(i))
    if (num && (c !== '.' || /\d/.test(src[i + 1] ?? ''))) {
      push('number', num[0], i)
      i += num[0].length
      continue
    }
    const name = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))
    if (name) {
      push('name', name[0], i)
      i += name[0].length
      continue
    }
    throw new FilterError(`unexpected character ${JSON.stringify(c)} at ${i + 1}; use names, numbers, "quoted text", ( ) and = != < <= > >= ~`)
  }
  out.push({ kind: 'end', text: '', pos: src.length })
  return out
}

// ------------------------------------------------------------------------------------------------ AST

export type Value = number | string | boolean | null
export type Field =
  | { kind: 'config'; path: string[] }
  | { kind: 'metric'; key: string; agg: 'last' | 'min' | 'max' }
  | { kind: 'run'; column: RunField }
  | { kind: 'tags' }
export type Node =
  | { type: 'and' | 'or'; items: Node[] }
  | { type: 'not'; item: Node }
  | { type: 'cmp'; field: Field; op: Op; value: Value }

const CONFIG_ROOTS = new Set(['model', 'training', 'optimizer', 'controller', 'data', 'engine', 'eval'])
const METRIC_ROOTS = new Set(['train', 'val', 'sys', 'eval'])
const RUN_FIELDS = {
  id: 'r.id',
  name: 'r.name',
  status: 'r.status',
  kind: 'r.kind',
  seed: 'r.seed',
  engine: 'r.engine',
  backend: 'r.backend',
  dataset: 'r.dataset',
  experiment: '(SELECT e2.name FROM experiments e2 WHERE e2.id = r.experiment_id)',
  notes: 'r.notes',
  note: 'r.notes',
  experiment_notes: '(SELECT e3.description FROM experiments e3 WHERE e3.id = r.experiment_id)',
  experiment_tags: '(SELECT e4.tags FROM experiments e4 WHERE e4.id = r.experiment_id)',
  steps: 'r.last_step',
  last_step: 'r.last_step',
  tokens_per_sec: 'r.tokens_per_sec',
  created: 'r.created_at',
  started: 'r.started_at',
  ended: 'r.ended_at',
  uid: 'r.uid',
} as const
type RunField = keyof typeof RUN_FIELDS
const isRunField = (s: string): s is RunField => Object.prototype.hasOwnProperty.call(RUN_FIELDS, s)
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const METRIC_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/

// ------------------------------------------------------------------------------------------------ parser

class Parser {
  private i = 0
  private depth = 0
  constructor(private readonly t: Tok[]) {}

  private peek(): Tok {
    return this.t[this.i]!
  }
  private next(): Tok {
    return this.t[this.i++]!
  }
  private isWord(w: string): boolean {
    const p = this.peek()
    return p.kind === 'name' && p.text.toLowerCase() === w
  }
  private fail(msg: string, tok = this.peek()): never {
    throw new FilterError(`${msg} at character ${tok.pos + 1}${tok.kind === 'end' ? ' (end of the filter)' : ` (near ${JSON.stringify(tok.text)})`}`)
  }

  parse(): Node {
    if (this.peek().kind === 'end') this.fail('the filter is empty')
    const n = this.expr()
    if (this.peek().kind !== 'end') this.fail('expected "and", "or" or the end')
    return n
  }

  private expr(): Node {
    if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`)
    const items = [this.andExpr()]
    while (this.isWord('or')) {
      this.next()
      items.push(this.andExpr())
    }
    this.depth--
    return items.length === 1 ? items[0]! : { type: 'or', items }
  }

  private andExpr(): Node {
    const items = [this.unary()]
    while (this.isWord('and')) {
      this.next()
      items.push(this.unary())
    }
    return items.length === 1 ? items[0]! : { type: 'and', items }
  }

  private unary(): Node {
    if (this.isWord('not')) {
      this.next()
      if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`)
      const item = this.unary()
      this.depth--
      return { type: 'not', item }
    }
    if (this.peek().kind === 'lparen') {
      this.next()
      const n = this.expr()
      if (this.peek().kind !== 'rparen') this.fail('expected ")"')
      this.next()
      return n
    }
    if ((this.isWord('tag') || this.isWord('tags')) && this.t[this.i + 1]?.kind === 'colon') {
      this.next()
      this.next()
      const v = this.value()
      if (typeof v !== 'string' && typeof v !== 'number') this.fail('tag: needs a tag name')
      return { type: 'cmp', field: { kind: 'tags' }, op: '=', value: String(v) }
    }
    return this.term()
  }

  private term(): Node {
    const field = this.field()
    const tok = this.peek()
    if (tok.kind !== 'op') this.fail('expected an operator (= != < <= > >= ~ !~)')
    this.next()
    const op = (tok.text === '==' ? '=' : tok.text) as Op
    const value = this.value()
    if ((op === '~' || op === '!~') && typeof value !== 'string') this.fail(`${op} needs text, e.g. note ~ "baseline"`, tok)
    if ((op === '<' || op === '<=' || op === '>' || op === '>=') && (value === null || typeof value === 'boolean')) this.fail(`${op} needs a number, text or date`, tok)
    if (field.kind === 'tags' && op !== '=' && op !== '!=' && op !== '~' && op !== '!~') this.fail('tags take =, !=, ~ or !~', tok)
    return { type: 'cmp', field, op, value }
  }

  private field(): Field {
    const first = this.peek()
    if (first.kind !== 'name') this.fail('expected a field (a config path such as model.n_layers, a metric such as val.loss, or status, tag, note, …)')
    this.next()
    const lower = first.text.toLowerCase()
    if ((lower === 'last' || lower === 'min' || lower === 'max') && this.peek().kind === 'lparen') {
      this.next()
      const inner = this.path()
      if (this.peek().kind !== 'rparen') this.fail('expected ")"')
      this.next()
      const f = this.classify(inner, first)
      if (f.kind !== 'metric') this.fail(`${lower}(…) takes a metric such as val.loss`, first)
      return { ...f, agg: lower }
    }
    return this.classify([first.text, ...this.rest()], first)
  }

  private path(): string[] {
    const first = this.peek()
    if (first.kind !== 'name') this.fail('expected a metric such as val.loss')
    this.next()
    return [first.text, ...this.rest()]
  }

  /** further path segments after `.` or `/` */
  private rest(): string[] {
    const segs: string[] = []
    while (this.peek().kind === 'dot' || this.peek().kind === 'slash') {
      this.next()
      const s = this.peek()
      if (s.kind !== 'name' && s.kind !== 'number') this.fail('expected a name after "." or "/"')
      this.next()
      segs.push(s.text)
      if (segs.length >= MAX_PATH_SEGMENTS) this.fail(`paths have at most ${MAX_PATH_SEGMENTS} parts`)
    }
    return segs
  }

  private classify(segs: string[], at: Tok): Field {
    const [head, ...tail] = segs
    const h = head!.toLowerCase()
    if (h === 'config') {
      if (!tail.length) this.fail('config needs a path, e.g. config.model.dim', at)
      return this.configField(tail, at)
    }
    if (CONFIG_ROOTS.has(h) && tail.length) return this.configField(segs, at)
    if (METRIC_ROOTS.has(h) && tail.length) {
      for (const s of tail) if (!METRIC_SEGMENT.test(s)) this.fail(`bad metric name part ${JSON.stringify(s)}`, at)
      return { kind: 'metric', key: [h, ...tail].join('/'), agg: 'last' }
    }
    if (!tail.length && (h === 'tag' || h === 'tags')) return { kind: 'tags' }
    if (!tail.length && isRunField(h)) return { kind: 'run', column: h }
    this.fail(
      `unknown field ${JSON.stringify(segs.join('.'))}; use a config path (model.*, training.*, optimizer.*, controller.*, data.*, config.*), a metric (train.*, val.*, sys.*), tag, or one of ${Object.keys(RUN_FIELDS).join(', ')}`,
      at,
    )
  }

  private configField(segs: string[], at: Tok): Field {
    for (const s of segs) if (!SEGMENT.test(s)) this.fail(`bad config path part ${JSON.stringify(s)} (letters, digits and _)`, at)
    return { kind: 'config', path: segs }
  }

  private value(): Value {
    const t = this.next()
    switch (t.kind) {
      case 'number': {
        const n = Number(t.text)
        if (!Number.isFinite(n)) this.fail('not a finite number', t)
        return n
      }
      case 'string':
        if (t.text.length > 200) this.fail('text values are at most 200 characters', t)
        return t.text
      case 'date':
        return t.text
      case 'name': {
        const w = t.text.toLowerCase()
        if (w === 'true') return true
        if (w === 'false') return false
        if (w === 'null') return null
        // a bareword value (completed, gated, baseline, proportional): text, possibly dotted (e.g. a tag group:x is quoted)
        let s = t.text
        while (this.peek().kind === 'dot' && this.t[this.i + 1]?.kind === 'name') {
          this.next()
          s += '.' + this.next().text
        }
        return s
      }
      default:
        return this.fail('expected a value (a number, "text", a date, true, false or null)', t)
    }
  }
}

export function parseFilter(src: string): Node {
  return new Parser(tokenize(src)).parse()
}

// ------------------------------------------------------------------------------------------------ SQL

export interface CompiledFilter {
  /** a boolean SQL expression over `runs r`, with ? placeholders */
  sql: string
  params: (string | number | null)[]
}

const SQL_OP: Record<Exclude<Op, '==' | '~' | '!~'>, string> = { '=': '=', '!=': 'IS NOT', '<': '<', '<=': '<=', '>': '>', '>=': '>=' }
const bind = (v: Value): string | number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : v)
const likeOf = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

function cmpSql(lhs: string, op: Op, value: Value, params: CompiledFilter['params']): string {
  if (op === '~' || op === '!~') {
    params.push(likeOf(String(value)))
    return `${op === '!~' ? 'NOT ' : ''}coalesce(${lhs} LIKE ? ESCAPE '\\', 0)`
  }
  if (value === null) return `${lhs} ${op === '!=' ? 'IS NOT NULL' : 'IS NULL'}`
  params.push(bind(value))
  return `${lhs} ${SQL_OP[op as keyof typeof SQL_OP]} ?`
}

function compileNode(n: Node, params: CompiledFilter['params']): string {
  switch (n.type) {
    case 'and':
    case 'or':
      return `(${n.items.map((x) => compileNode(x, params)).join(n.type === 'and' ? ' AND ' : ' OR ')})`
    case 'not':
      return `NOT coalesce(${compileNode(n.item, params)}, 0)`
    case 'cmp': {
      const f = n.field
      if (f.kind === 'tags') {
        const neg = n.op === '!=' || n.op === '!~'
        const like = n.op === '~' || n.op === '!~'
        params.push(like ? likeOf(String(n.value)) : String(n.value))
        return `${neg ? 'NOT ' : ''}EXISTS (SELECT 1 FROM json_each(r.tags) WHERE value ${like ? "LIKE ? ESCAPE '\\'" : '= ?'})`
      }
      if (f.kind === 'run') return cmpSql(RUN_FIELDS[f.column], n.op, n.value, params)
      if (f.kind === 'config') {
        params.push(`$.${f.path.join('.')}`)
        return cmpSql('json_extract(r.config, ?)', n.op, n.value, params)
      }
      const col = f.agg === 'last' ? 'last_value' : f.agg === 'min' ? 'min_value' : 'max_value'
      params.push(f.key)
      return cmpSql(`(SELECT ms.${col} FROM metric_summaries ms JOIN metric_keys mk ON mk.id = ms.key_id WHERE ms.run_id = r.id AND mk.key = ?)`, n.op, n.value, params)
    }
  }
}

/** Parse and compile a filter; FilterError (one line: what and where) on bad input. */
export function compileFilter(src: string): CompiledFilter {
  const params: CompiledFilter['params'] = []
  const sql = compileNode(parseFilter(src), params)
  return { sql, params }
}

/** A config path usable for group-by (same allow-list as the filter). */
export function checkConfigPath(path: string): string[] {
  const segs = path.split('.')
  if (!segs.length || segs.length > MAX_PATH_SEGMENTS || !segs.every((s) => SEGMENT.test(s)))
    throw new FilterError(`bad config path ${JSON.stringify(path)}; use a dotted path such as model.n_layers`)
  return segs[0] === 'config' ? segs.slice(1) : segs
}
