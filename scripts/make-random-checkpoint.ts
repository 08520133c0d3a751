/**
 * Writes a full-size random-weight Visualized BGE checkpoint (+ HF-style text folder) for
 * benchmarks: `npx tsx scripts/make-random-checkpoint.ts --variant base|m3 [--out DIR] [--seed N]`.
 * Default output: a folder under the OS temp dir (never the repository).
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { writeRandomVisualizedCheckpoint, type VisualizedVariant } from '../test/helpers/random-checkpoint.js';

function main(): number {
  let values: { variant?: string; out?: string; seed?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        variant: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const usage = 'usage: make-random-checkpoint --variant base|m3 [--out DIR] [--seed N]\n';
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.variant !== 'base' && values.variant !== 'm3') {
    process.stderr.write(`--variant must be "base" or "m3"\n${usage}`);
    return 2;
  }
  const variant: VisualizedVariant = values.variant;
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    process.stderr.write(`--seed must be an integer, got "${values.seed}"\n`);
    return 2;
  }
  const outDir = resolve(values.out ?? join(tmpdir(), 'visualized-bge-random', variant));
  const started = Date.now();
  const paths = writeRandomVisualizedCheckpoint(variant, outDir, seed === undefined ? {} : { seed });
  const mb = (statSync(paths.checkpoint).size / 1e6).toFixed(1);
  process.stdout.write(
    `checkpoint: ${paths.checkpoint} (${mb} MB)\ntext model: ${paths.textDir}\n` +
      `written in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

process.exitCode = main();
