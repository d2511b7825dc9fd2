/**
 * Controller configurations (spec C; reference projects/skip_middle/gate_controller/*.py), as zod schemas with the
 * reference defaults. JSON has no ±∞, so the unbounded coefficient clamps are written as null.
 */
import { z } from 'zod'

export const CONTROLLER_NAMES = [
  'dummy',
  'sparsity',
  'sparsity_variance',
  'sparsity_variance_l2',
  'adaptive',
  'proportional',
  'proportional_derivative',
] as const
export type ControllerName = (typeof CONTROLLER_NAMES)[number]

/** "auto", an explicit list of L/2 values, or the reference's space-separated string of them. */
const fraction = (what: string) =>
  z.number({ error: `${what} must be a number` }).min(0, { error: `${what} must be between 0 and 1 (a fraction of gates open)` }).max(1, { error: `${what} must be between 0 and 1 (a fraction of gates open)` })

const meanTargets = z
  .union([z.literal('auto'), z.array(fraction('each of mean_targets')).min(1), z.string()])
  .default('auto')
  .describe('gate-mean targets for the first L/2 layers, mirrored onto the second half')

const targetsBase = {
  mean_targets: meanTargets,
  /**
   * Start/end of the "auto" linspace. The reference has no default (None, then an assertion); we default to the
   * values of the paper's gated runs: start 1, end 0.5 (the script default E).
   */
  mean_target_start: fraction('mean_target_start').default(1),
  mean_target_end: z
    .number({ error: 'mean_target_end must be a number' })
    .gt(0, { error: 'mean_target_end must be greater than 0 and at most 1 (the middle layer\'s gate-mean target)' })
    .max(1, { error: 'mean_target_end must be greater than 0 and at most 1 (the middle layer\'s gate-mean target)' })
    .default(0.5),
  /** added to the Bernoulli variance target m(1−m), then clamped at 0 */
  var_target_delta: z.number().default(0),
  ema_steps_short: z.number().positive().default(1),
  ema_steps_long: z.number().positive().default(10),
}

const targetCommon = {
  ...targetsBase,
  mean_coef_init: z.number().default(0),
  var_coef_init: z.number().default(0),
  /** null = +∞ (no clamp), the reference default */
  coef_max: z.number().nullable().default(null),
  /** null = −∞ (no clamp), the reference default */
  coef_min: z.number().nullable().default(null),
  /** |Δ| must exceed this for a coefficient to move */
  delta_min: z.number().nonnegative().default(0.01),
}

/** 0 < end ≤ start ≤ 1: the "auto" targets go from start down to end (a larger end would train towards more gates). */
const endNotAboveStart = <T extends { mean_target_start: number; mean_target_end: number }>(v: T, ctx: z.RefinementCtx) => {
  // an end above 1 is already refused by its own range
  if (v.mean_target_end > v.mean_target_start && v.mean_target_end <= 1)
    ctx.addIssue({
      code: 'custom',
      path: ['mean_target_end'],
      message: `mean_target_end (${v.mean_target_end}) must not exceed mean_target_start (${v.mean_target_start}): targets go from start down to end, 0 < end ≤ start ≤ 1`,
      params: { text: `The target end E (${v.mean_target_end}) must not be above the target start (${v.mean_target_start}): the targets go down from start to end` },
    })
}

export const ControllerConfigSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('dummy') }).strict(),
  z.object({ name: z.literal('sparsity'), mean_coef_init: z.number().default(0.01) }).strict(),
  z
    .object({ name: z.literal('sparsity_variance'), mean_coef_init: z.number().default(0.01), var_coef_init: z.number().default(-0.01) })
    .strict(),
  z
    .object({
      name: z.literal('sparsity_variance_l2'),
      ...targetsBase,
      mean_coef_init: z.number().default(0.1),
      var_coef_init: z.number().default(0.1),
    })
    .strict()
    .superRefine(endNotAboveStart),
  z.object({ name: z.literal('adaptive'), ...targetCommon, coef_update: z.number().default(1e-3) }).strict().superRefine(endNotAboveStart),
  z.object({ name: z.literal('proportional'), ...targetCommon, coef_update_multiplier: z.number().default(1e-3) }).strict().superRefine(endNotAboveStart),
  z
    .object({
      name: z.literal('proportional_derivative'),
      ...targetCommon,
      coef_update_multiplier: z.number().default(1e-2),
      deriv_min: z.number().default(0),
    })
    .strict()
    .superRefine(endNotAboveStart),
])

export type ControllerConfig = z.output<typeof ControllerConfigSchema>
export type ControllerConfigInput = z.input<typeof ControllerConfigSchema>
export type TargetControllerConfig = Extract<ControllerConfig, { name: 'adaptive' | 'proportional' | 'proportional_derivative' }>
export type L2ControllerConfig = Extract<ControllerConfig, { name: 'sparsity_variance_l2' }>

/** The paper's gated runs (spec C, H.10): proportional, k = 1e-3, targets linspace(1, E, L/2). */
export function paperController(end = 0.5): ControllerConfig {
  return ControllerConfigSchema.parse({ name: 'proportional', mean_target_start: 1, mean_target_end: end, coef_update_multiplier: 1e-3 })
}

/** Controllers that steer the gate means towards targets (they have mean_target_start / mean_target_end). */
export const TARGET_CONTROLLERS: readonly ControllerName[] = ['sparsity_variance_l2', 'adaptive', 'proportional', 'proportional_derivative']

/**
 * The controller the form switches to when the user picks `name`: the schema's own defaults for the fields the
 * form shows (targets 1 → 0.5, k), keeping targets already chosen. The rest stays implicit (the schema fills it).
 */
export function controllerFormDefaults(name: ControllerName, prev: Record<string, unknown> = {}): Record<string, unknown> {
  if (!TARGET_CONTROLLERS.includes(name)) return { name }
  const full = ControllerConfigSchema.parse({ name }) as Record<string, unknown>
  const keep = (k: string) => (prev[k] !== undefined ? prev[k] : full[k])
  const out: Record<string, unknown> = { name, mean_target_start: keep('mean_target_start'), mean_target_end: keep('mean_target_end') }
  if ('coef_update_multiplier' in full) out.coef_update_multiplier = full.coef_update_multiplier
  return out
}
