/**
 * The run config's one home (pure: zod only, shared by core, the CLI and the renderer): the run and model schemas,
 * the enum lists, every default, preset resolution, structured issues and the facts derived from a config.
 */
export * from './controller.js'
export * from './defaults.js'
export * from './derived.js'
export * from './issues.js'
export * from './model.js'
export * from './presets.js'
export * from './run.js'
