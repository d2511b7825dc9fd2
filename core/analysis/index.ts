/** Pareto analysis of gated runs against the dense frontier (issue 6): public surface of core/analysis. */
export {
  addExclusions,
  compareRuns,
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
  seedGroupKey,
  seedGroupLabel,
  type ParsedRun,
  type ParseResult,
  type RunRecord,
} from './records.js'
export {
  compareExperiment,
  costRun,
  experimentRuns,
  findExperiment,
  recordId,
  runRecordsFromStore,
  toRunRecord,
  type CostedRun,
  type CostOptions,
  type CostResult,
  type ExperimentComparison,
  type RecordsOptions,
  type ValidationSource,
} from './stored-runs.js'
export { averageRanks, incompleteBeta, logGamma, spearman, studentTCdf, studentTQuantile, summarize, type Summary } from './stats.js'
export {
  assess,
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
