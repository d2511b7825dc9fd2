// Vitest global setup: rebuild the CLI bundle from the current sources, so tests that spawn `skipbench` never run
// a stale bundle (bin/skipbench.mjs would otherwise fall back to tsx, which is correct but slow).
export default async function setup(): Promise<void> {
  // @ts-expect-error -- a plain .mjs build script without type declarations
  const { buildCli } = (await import('../../scripts/build-cli.mjs')) as { buildCli: (o: { quiet: boolean }) => Promise<void> }
  await buildCli({ quiet: true })
}
