/**
 * Wire schema of a comparison (core/analysis compareRuns output), so the renderer and the report builders can
 * use it without importing core/analysis. tests/contract-analysis.test.ts checks the two stay in step.
 */
import { z } from 'zod'

export const Summary = z.object({
  n: z.number().int(),
  mean: z.number(),
  sd: z.number().nullable(),
  se: z.number().nullable(),
  level: z.number(),
  ci: z.tuple([z.number(), z.number()]).nullable(),
})
export type Summary = z.infer<typeof Summary>

const Extrapolation = z.enum(['below', 'above']).nullable()

const FrontierPoint = z.object({
  flops: z.number(),
  log10Flops: z.number(),
  loss: z.number(),
  ids: z.array(z.string()),
  label: z.string().optional(),
})

const GatedGap = z.object({
  id: z.string(),
  group: z.string(),
  label: z.string(),
  seed: z.number(),
  flops: z.number(),
  loss: z.number(),
  zeroFraction: z.number().nullable(),
  executedTrainingFlops: z.number().nullable(),
  atEqualFlops: z.object({ frontierLoss: z.number().nullable(), gap: z.number().nullable(), extrapolated: Extrapolation }),
  atEqualLoss: z.object({
    denseFlops: z.number().nullable(),
    flopsRatio: z.number().nullable(),
    flopsSaving: z.number().nullable(),
    extrapolated: Extrapolation,
  }),
})
export type GatedGap = z.infer<typeof GatedGap>

const SeedGroup = z.object({
  key: z.string(),
  label: z.string(),
  kind: z.enum(['dense', 'gated']),
  ids: z.array(z.string()),
  seeds: z.array(z.number()),
  n: z.number().int(),
  loss: Summary,
  flops: Summary,
  gap: Summary.nullable(),
  flopsSaving: Summary.nullable(),
  onFrontier: z.boolean().nullable(),
})
export type SeedGroup = z.infer<typeof SeedGroup>

const Interval = z.tuple([z.number(), z.number()])
const Direction = z.enum(['better', 'worse', 'equal'])

const FairnessCheck = z.object({
  name: z.enum(['training tokens', 'LR schedule', 'dataset and tokenizer', 'evaluation set']),
  ok: z.boolean().nullable(),
  detail: z.string(),
})
export type FairnessCheck = z.infer<typeof FairnessCheck>

const PointAssessment = z.object({
  group: z.string(),
  label: z.string(),
  n: z.number().int(),
  flops: z.number(),
  loss: z.number(),
  extrapolated: Extrapolation,
  gap: z.number().nullable(),
  gapCi: Interval.nullable(),
  direction: Direction.nullable(),
  saving: z.number().nullable(),
  savingCi: Interval.nullable(),
  savingNote: z.string().nullable(),
})
export type PointAssessment = z.infer<typeof PointAssessment>

const Verdict = z.object({
  conclusive: z.boolean(),
  direction: Direction.nullable(),
  text: z.string(),
  reasons: z.array(z.string()),
  nextSteps: z.array(z.string()),
  level: z.number(),
  simultaneousLevel: z.number().nullable(),
  method: z.string(),
  points: z.array(PointAssessment),
})
export type Verdict = z.infer<typeof Verdict>

export const Comparison = z.object({
  estimator: z.enum(['paper', 'corrected']),
  /** 'measured': evaluation time per token on one machine and engine (core/trainer/measured-cost.ts) */
  flopsKind: z.enum(['inference', 'training', 'measured']),
  /** flopsKind 'measured': the machine and engine the costs were measured with */
  measuredOn: z.string().nullable().optional(),
  level: z.number(),
  reference: z.object({ dataset: z.string(), tokenizer: z.string(), valTokens: z.number(), seqLen: z.number() }).nullable(),
  frontier: z.object({
    points: z.array(FrontierPoint),
    dominated: z.array(z.object({ flops: z.number(), loss: z.number(), ids: z.array(z.string()), dominatedBy: z.array(z.string()) })),
    monotone: z.boolean(),
    noise: z.object({ sd: z.number(), df: z.number().int(), groups: z.number().int() }).nullable(),
    steps: z.array(
      z.object({ from: z.string(), to: z.string(), fromFlops: z.number(), toFlops: z.number(), delta: z.number(), ci: Interval.nullable(), falls: z.boolean() }),
    ),
  }),
  fairness: z.array(FairnessCheck),
  flopsNote: z.string().nullable(),
  gated: z.array(GatedGap),
  groups: z.array(SeedGroup),
  excluded: z.array(z.object({ id: z.string(), reason: z.string(), reasons: z.array(z.string()) })),
  summary: z.object({
    denseRuns: z.number(),
    gatedRuns: z.number(),
    withinRange: z.number(),
    extrapolatedBelow: z.number(),
    extrapolatedAbove: z.number(),
    beatFrontier: z.number(),
    gap: Summary.nullable(),
    flopsSaving: Summary.nullable(),
  }),
  verdict: Verdict,
})
export type Comparison = z.infer<typeof Comparison>
