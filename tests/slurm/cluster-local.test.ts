// The Slurm integration tests through the local path; the body is suite.ts.
import { clusterSuite } from './suite.js'

clusterSuite('local')
