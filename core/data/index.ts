/**
 * Data: token shards, loaders, datasets, the shipped corpus and importers (the public surface for cli/ and main/).
 */
export * from './shard.js'
export * from './shard-writer.js'
export * from './loader.js'
export * from './dataset.js'
export * from './corpus.js'
export * from './inspect.js'
export { expandGlob, hasGlobMagic } from './glob.js'
export * from './import/index.js'
export { formatProgress, formatSummary } from './import/format.js'
