import { goldenSuite } from './golden.suite.js'

goldenSuite('cpu')
