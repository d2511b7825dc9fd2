/**
 * Slurm cluster profiles and what the app shows of a cluster run: zod schemas shared by the CLI, the service, the
 * IPC/HTTP transports and the renderer (pure: zod only). core/cluster/profile.ts validates with these.
 */
import { z } from 'zod'

const CLUSTER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Slurm time limits: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS */
const SLURM_TIME_RE = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/
/** Slurm memory: a number with an optional K/M/G/T suffix */
const SLURM_MEM_RE = /^\d+[KMGT]?$/i

export const ClusterName = z.string().regex(CLUSTER_NAME_RE, { error: 'a cluster name is letters, digits, ".", "_" or "-" (at most 64), e.g. "uni-gpu"' })

export const ClusterProfileSchema = z
  .object({
    name: ClusterName,
    scheduler: z.literal('slurm').default('slurm'),
    /** folder on the cluster for datasets, job scripts, outputs and run folders (absolute, or relative to the login home) */
    workdir: z
      .string()
      .min(1, { error: 'give --workdir DIR (a folder on the cluster)' })
      .refine((s) => !/[\n\r'"]/.test(s), { error: 'no quotes or newlines in --workdir' }),
    /** ssh destination (HOST, USER@HOST or an ~/.ssh/config alias); absent: commands run on this machine */
    ssh: z
      .string()
      .min(1)
      .refine((s) => !s.startsWith('-') && !/\s/.test(s), { error: '--ssh takes a host, user@host or ssh config alias' })
      .optional(),
    /** an ssh config file (ssh -F FILE) instead of ~/.ssh/config */
    sshConfig: z.string().min(1).optional(),
    partition: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    time: z.string().regex(SLURM_TIME_RE, { error: 'a Slurm time limit, e.g. 30, 4:00:00 or 1-12:00:00' }).optional(),
    gpus: z.number().int().min(0).optional(),
    cpus: z.number().int().min(1).optional(),
    mem: z.string().regex(SLURM_MEM_RE, { error: 'Slurm memory, e.g. 4G or 16000M' }).optional(),
    /** shell lines run in the job before skipbench (module load ..., source venv) */
    setup: z.string().optional(),
    /** how to start skipbench on the node; default: this installation (local) or `npx --no-install skipbench` in <workdir>/skipbench (ssh) */
    skipbench: z.string().min(1).optional(),
    /** the engine backend every job uses (train --backend) */
    backend: z.string().min(1).optional(),
    /** SLURM_CONF for the Slurm clients (local clusters: taken from the environment when the profile is added) */
    slurmConf: z.string().min(1).optional(),
    /** resubmissions of a timed-out, preempted or killed job (from its last checkpoint); default 2 */
    maxResubmits: z.number().int().min(0).max(20).default(2),
  })
  .strict()

export type ClusterProfile = z.output<typeof ClusterProfileSchema>
export type ClusterProfileInput = z.input<typeof ClusterProfileSchema>

/** One line of `cluster check` / the Settings page's "Test connection". */
export const ClusterCheckLine = z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })
export type ClusterCheckLine = z.infer<typeof ClusterCheckLine>

/** A cluster run's current Slurm job (run list rows, `runs show`, the run page). */
export const SlurmInfo = z.object({
  cluster: z.string(),
  job_id: z.string().nullable(),
  array_job_id: z.string().nullable(),
  array_index: z.number().int().nullable(),
  state: z.string(),
  slurm_state: z.string().nullable(),
  node: z.string().nullable(),
  elapsed: z.string().nullable(),
  exit_code: z.string().nullable(),
  reason: z.string().nullable(),
  attempt: z.number().int(),
  output_tail: z.string().nullable(),
})
export type SlurmInfo = z.infer<typeof SlurmInfo>
