/**
 * The onnxruntime training engine (the product's default): TypeScript-built ONNX graphs with our own
 * reverse-mode autodiff and in-graph AdamW, run by onnxruntime-node.
 */
export { createOrtEngine, OrtEngine, type OrtEngineOptions } from './ort-engine.js'
export { exportOnnxModel, type ExportOptions } from './export.js'
export { calibrate, OrtProviderError, probeWebgpu, resolveProvider, AUTO_MIN_SPEEDUP, type Calibration, type OrtProvider } from './session.js'
export { describeWebgpuAdapter, formatAdapter, type AdapterInfo } from './adapter.js'
export { formatPlacement, type GraphPlacement } from './placement.js'
