/**
 * The defaults of a whole run config, by kind: what the schema fills into a document that gives only what it must
 * (train_steps, which has no default, is left out). The form shows these as the placeholders of empty fields, and a
 * test checks that the values the form writes on its own (kind switch, controller choice) are exactly these.
 */
import { controllerFormDefaults } from './controller.js'
import type { RunKind } from './derived.js'
import { parseRunConfig } from './run.js'

function defaultsOf(doc: Record<string, unknown>): Record<string, unknown> {
  const c = JSON.parse(JSON.stringify(parseRunConfig({ ...doc, training: { train_steps: 1 } }))) as { training: Record<string, unknown> }
  delete c.training.train_steps
  return c
}

export const RUN_DEFAULTS: Readonly<Record<RunKind, Readonly<Record<string, unknown>>>> = {
  dense: defaultsOf({ model: { zero_init_masks: true } }),
  gated: defaultsOf({ model: { zero_init_masks: false }, controller: controllerFormDefaults('proportional') }),
}
