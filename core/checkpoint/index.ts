/** Checkpoints: safetensors I/O, model folders (model.safetensors + config.json), training-state checkpoints. */
export * from './safetensors.js'
export * from './model.js'
export * from './train-state.js'
