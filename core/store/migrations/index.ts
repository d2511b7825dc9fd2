/** All migrations, in order. Append only: a new step gets the next multiple of 10 and its own file. */
import { migration0010 } from './0010-core.js'
import { migration0020 } from './0020-datasets-evaluations.js'
import { migration0030 } from './0030-jobs.js'
import { migration0040 } from './0040-metric-summaries.js'
import { migration0050 } from './0050-clusters.js'
import { migration0060 } from './0060-provenance-views.js'
import type { Migration } from './types.js'

export type { Migration } from './types.js'

export const MIGRATIONS: readonly Migration[] = [migration0010, migration0020, migration0030, migration0040, migration0050, migration0060]
