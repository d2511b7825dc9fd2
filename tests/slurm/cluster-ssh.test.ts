// The Slurm integration tests through the ssh path; the body is suite.ts.
import { clusterSuite } from './suite.js'

clusterSuite('ssh')
