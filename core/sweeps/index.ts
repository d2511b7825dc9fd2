/**
 * Sweeps (issue 6): grids over RunConfig fields expanded into validated runs of one experiment, an estimate of
 * their FLOPs and wall time from a calibration of this machine, and queuing through the job runner. The
 * comparison of the finished runs (stored runs → analysis RunRecords → compareRuns) is core/analysis/stored-runs.ts.
 */
export {
  expandSweep,
  getPath,
  normalizePath,
  parseAssignment,
  pointName,
  setPath,
  SweepError,
  type ExpandedSweep,
  type InvalidPoint,
  type SweepGroupSpec,
  type SweepPoint,
  type SweepSpec,
} from './grid.js'
export {
  paperGrid,
  PAPER_DEPTHS,
  PAPER_GRID_GROUPS,
  PAPER_TARGET_ENDS,
  SCALES,
  SWEEP_PRESETS,
  SWEEP_SCALES,
  sweepPreset,
  type PaperGridGroup,
  type PaperGridOptions,
  type ScaleSpec,
  type SweepPresetInfo,
  type SweepScale,
} from './presets.js'
export {
  calibrate,
  CalibrationCache,
  calibrationKey,
  calibrationShape,
  hostInfo,
  microStepFlops,
  type CalibrateOptions,
  type Calibration,
  type CalibrationShape,
} from './calibrate.js'
export {
  calibrationTargets,
  estimateFromCalibrations,
  estimateSweep,
  pointFlops,
  pointSeconds,
  runSeconds,
  targetSparsity,
  trainRate,
  validationCount,
  WORKER_START_SECONDS,
  type EstimateOptions,
  type PointEstimate,
  type PointFlops,
  type SweepEstimate,
} from './estimate.js'
export { queueSweep, waitForSweep, type QueuedPoint, type QueuedSweep, type QueueSweepOptions, type SweepProgress } from './queue.js'
