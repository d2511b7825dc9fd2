/**
 * A child process for system-metrics.test.ts: `busy` spins the CPU and holds 96 MiB of touched memory, `idle`
 * sleeps; over the same wall time, then prints one SystemSampler sample as JSON on stdout.
 */
import { SystemSampler } from '../system-metrics.js'

const mode = process.argv[2]
const ms = Number(process.argv[3] ?? 600)
const held: Buffer[] = []
if (mode === 'busy') held.push(Buffer.alloc(96 * 1048576, 1))
const sampler = new SystemSampler()
if (mode === 'busy') {
  const end = performance.now() + ms
  let x = 0
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) x += Math.sqrt(i + x)
  held.push(Buffer.from(String(x)))
} else await new Promise((r) => setTimeout(r, ms))
process.stdout.write(JSON.stringify({ ...sampler.sample(), held: held.length }))
