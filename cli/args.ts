/**
 * A small argv parser: `--key value`, `--key=value`, boolean flags and positionals, validated by a zod schema per
 * command. Unknown options are errors that list the known ones.
 */
import { z } from 'zod'
import { UserError } from '../core/user-errors.js'

export class UsageError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface ParsedArgs {
  positionals: string[]
  options: Record<string, string | boolean>
}

/** `flags` take no value; everything else named in `known` takes one. */
export function parseArgv(argv: string[], known: { flags: string[]; values: string[] }): ParsedArgs {
  const positionals: string[] = []
  const options: Record<string, string | boolean> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2)
    if (known.flags.includes(key)) {
      if (eq > 0) throw new UsageError(`--${key} takes no value`)
      options[key] = true
    } else if (known.values.includes(key)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i]
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${key} needs a value`)
      options[key] = v
    } else {
      const all = [...known.values, ...known.flags].map((k) => `--${k}`).join(', ')
      throw new UsageError(`unknown option --${key}${all ? ` (options: ${all})` : ''}`)
    }
  }
  return { positionals, options }
}

/** Validate with zod; messages name the option. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const msgs = r.error.issues.map((i) => {
    const key = i.path.map(String).join('.')
    return key ? `--${key.replace(/_/g, '-')}: ${i.message}` : i.message
  })
  throw new UsageError(msgs.join('; '))
}

/** a positive integer given as text */
export const positiveInt = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${what} must be a positive whole number` })
    .transform(Number)
    .refine((n) => n >= 1, { error: `${what} must be at least 1` })

/** The comparison options shared by `compare` and `report` (estimator, FLOPs kind, CE source, interval level). */
export const comparisonOptions = {
  estimator: z.enum(['paper', 'corrected'], { error: 'must be paper or corrected' }).default('paper'),
  flops: z.enum(['inference', 'training'], { error: 'must be inference or training' }).default('inference'),
  source: z.enum(['auto', 'evaluation', 'validation'], { error: 'must be auto, evaluation or validation' }).default('auto'),
  level: z
    .string()
    .transform(Number)
    .refine((x) => x > 0 && x < 1, { error: 'must be a number between 0 and 1, e.g. 0.95' })
    .optional(),
}
