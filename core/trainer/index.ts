/** The trainer: run configs, LR schedule, gate metrics, the training loop, run wiring and checkpoint evaluation. */
export * from './schedule.js'
export * from './gate-metrics.js'
export * from './data.js'
export * from './trainer.js'
export * from './run.js'
export * from './evaluate.js'
export * from './export-model.js'
export * from './measured-cost.js'
