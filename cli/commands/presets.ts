/** `skipbench presets [--json]` */
import { paramCount } from '../../core/model/params.js'
import { PRESETS } from '../../core/config/index.js'
import { parseRunConfig, tokensPerStep } from '../../core/config/index.js'
import { parseArgv, UsageError } from '../args.js'

export const PRESETS_HELP = `usage: skipbench presets [--json]

List the built-in presets (use with: skipbench train --preset NAME).`

export async function presetsCommand(argv: string[]): Promise<number> {
  const { positionals, options } = parseArgv(argv, { flags: ['json'], values: [] })
  if (positionals.length) throw new UsageError(`presets takes no arguments, got ${positionals.join(' ')}`)
  const rows = PRESETS.map((p) => {
    const c = parseRunConfig(p.config) // the schema's defaults, as training will see them
    return {
      name: p.name,
      kind: p.kind,
      description: p.description,
      n_layers: c.model.n_layers,
      dim: c.model.dim,
      params: paramCount(c.model),
      train_steps: c.training.train_steps,
      tokens_per_step: tokensPerStep(c),
      config: p.config,
    }
  })
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
    return 0
  }
  const w = Math.max(...rows.map((r) => r.name.length))
  for (const r of rows)
    process.stdout.write(
      `${r.name.padEnd(w)}  ${r.kind.padEnd(5)}  ${String(r.n_layers).padStart(2)} layers  dim ${String(r.dim).padStart(4)}  ${(r.params / 1e6).toFixed(2).padStart(7)}M params  ${r.description}\n`,
    )
  return 0
}
