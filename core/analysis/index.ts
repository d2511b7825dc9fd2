/** Pareto analysis of gated runs against the dense frontier (issue 6): public surface of core/analysis. */
export {
  addExclusions,
  compareRuns,
  HYPOTHETICAL_TRAINING_FLOPS_NOTE,
  notCostedReason,
  type CompareOptions,
  type Comparison,
  type EvaluationReference,
  type Excluded,
  type FlopsKind,
  type GatedGap,
  type SeedGroup,
} from './compare.js'
export {
  frontierFlopsAt,
  frontierLossAt,
  log10Flops,
  LOG10_FLOPS_TOLERANCE,
  LOSS_TOLERANCE,
  paretoFrontier,
  type Extrapolation,
  type FlopsAtLoss,
  type Frontier,
  type FrontierInput,
  type FrontierPoint,
  type LossAtFlops,
} from './frontier.js'
export {
  canonicalJson,
  parseRunRecord,
  runRecordSchema,
  seedGroupKey,
  seedGroupLabel,
  type ParsedRun,
  type ParseResult,
  type RunRecord,
} from './records.js'
export { averageRanks, incompleteBeta, logGamma, spearman, studentTCdf, studentTQuantile, summarize, type Summary } from './stats.js'
export {
  assess,
  BOOTSTRAP_REPLICATES,
  BOOTSTRAP_SEED,
  checkFrontier,
  pooledNoise,
  savingDefinedAt,
  type Direction,
  type FairnessCheck,
  type FrontierCheck,
  type FrontierStep,
  type NoiseEstimate,
  type PointAssessment,
  type Verdict,
} from './verdict.js'
