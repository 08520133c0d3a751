/**
 * `vbge embed` as a user runs it, on a folder of JPEGs: with default options and with explicit
 * tuned ones, interleaved in ABBA order (default, tuned, tuned, default, …) so that both see the
 * same machine and neither is always the one that runs first. Reports the median wall time of
 * each and checks that both wrote the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, round } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface CliEmbedResult {
  images: number;
  tuned_options: string;
  default_s: number;
  tuned_s: number;
  /** default ÷ tuned wall time (the target: ≤ 1.05). */
  default_vs_tuned: number;
  same_output: boolean;
}

export function benchCliEmbed(opts: { weights: string; textModel: string; cacheDir: string; jpeg: Uint8Array; images: number; tuned: string[]; rounds: number }): CliEmbedResult {
  const dir = mkdtempSync(join(tmpdir(), 'vbge-bench-cli-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < opts.images; i++) {
      const path = join(dir, `image-${i}.jpg`);
      writeFileSync(path, opts.jpeg);
      lines.push(JSON.stringify({ id: i, image: path }));
    }
    writeFileSync(join(dir, 'inputs.jsonl'), `${lines.join('\n')}\n`);
    const run = (extra: string[], out: string): number => {
      const args = ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'embed', '--weights', opts.weights, '--text-model', opts.textModel, '--input', join(dir, 'inputs.jsonl'), '--output', join(dir, out), ...extra];
      const t0 = performance.now();
      execFileSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, VBGE_CACHE_DIR: opts.cacheDir }, stdio: ['ignore', 'ignore', 'inherit'] });
      return (performance.now() - t0) / 1000;
    };
    const defaults: number[] = [];
    const tuned: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const pair = [() => defaults.push(run([], 'default.jsonl')), () => tuned.push(run(opts.tuned, 'tuned.jsonl'))];
      if (r % 2 === 1) pair.reverse();
      for (const step of pair) step();
    }
    const same = readFileSync(join(dir, 'default.jsonl')).equals(readFileSync(join(dir, 'tuned.jsonl')));
    return {
      images: opts.images,
      tuned_options: opts.tuned.join(' '),
      default_s: round(median(defaults), 2),
      tuned_s: round(median(tuned), 2),
      default_vs_tuned: round(median(defaults) / median(tuned), 3),
      same_output: same,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
