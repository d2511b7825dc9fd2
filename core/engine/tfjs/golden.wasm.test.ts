import { goldenSuite } from './golden.suite.js'

goldenSuite('wasm')
