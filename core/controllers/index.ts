/** Gate controllers (spec C): configs, the seven controllers, targets and EMAs. */
export * from '../config/controller.js'
export * from './controllers.js'
export { Ema, linspace, makeMeanTargets, makeVarTargets, type EmaState } from './targets.js'
