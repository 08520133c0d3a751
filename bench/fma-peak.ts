/**
 * The CPU's FMA peak, measured in the same run as the model (bench/fma-peak.c, compiled with the
 * system C compiler when there is one). Never downloads anything: without a compiler, or on a
 * CPU without AVX2/AVX-512 FMA, the peak is reported as unavailable.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type FmaPeak = { gflops: number; isa: string; threads: number } | { gflops: null; unavailable: string };

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'fma-peak.c');

function compile(): string {
  const source = readFileSync(SOURCE);
  const dir = join(tmpdir(), 'visualized-bge-bench');
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, `fma-peak-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (!existsSync(binary)) execFileSync(process.env['CC'] ?? 'cc', ['-O2', '-pthread', '-o', binary, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  return binary;
}

export function fmaPeak(threads: number, seconds = 1.5): FmaPeak {
  let binary: string;
  try {
    binary = compile();
  } catch (err) {
    return { gflops: null, unavailable: `no C compiler (${(err as Error).message.split('\n')[0]})` };
  }
  const out = JSON.parse(execFileSync(binary, [String(threads), String(seconds)], { encoding: 'utf8' })) as { isa: string; gflops?: number };
  if (out.gflops === undefined) return { gflops: null, unavailable: `no FMA instructions (${out.isa})` };
  return { gflops: out.gflops, isa: out.isa, threads };
}
