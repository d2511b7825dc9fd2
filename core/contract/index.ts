export * from './api.js'
export * from './cluster.js'
