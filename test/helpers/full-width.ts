/**
 * Determinism at the published models' widths. The tiny fixtures (width 32–48) never reach the
 * full-size GEMM paths — K blocking at 768/3072, wide-N thread partitions, large packed tiles —
 * that the README's guarantee rests on; a shallow random checkpoint at full width does: width 768
 * (MLP 3072, SwiGLU 2048, B/16 patches) and 1024 (4096, 2730, L/14), one vision block, one text
 * layer, a small vocabulary. Made at run time, never committed. Used by the slow test group and
 * by `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder } from '../../src/encoder.js';
import { verifyEncoder, type VerifyCheck, type VerifyReport } from '../../src/verify.js';
import { VISUALIZED_DIMS, writeRandomVisualizedCheckpoint, type VisualizedVariant } from './random-checkpoint.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ModelFiles {
  readonly weights: string;
  readonly textModel: string;
  readonly visionConfig: string;
}

/** The variant's widths with one vision block, one text layer and `vocab` tokens. */
export function shallowDims(variant: VisualizedVariant, vocab = 4096): (typeof VISUALIZED_DIMS)[VisualizedVariant] {
  return { ...VISUALIZED_DIMS[variant], textLayers: 1, visionDepth: 1, vocab };
}

/** Writes the shallow full-width checkpoint, its text folder and the EVA02-CLIP config of its one-block tower. */
export function writeShallowFullWidth(variant: VisualizedVariant, dir: string): ModelFiles {
  const dims = shallowDims(variant);
  const paths = writeRandomVisualizedCheckpoint(variant, dir, { dims, seed: 20251130 });
  const visionConfig = join(dir, 'vision_config.json');
  const vision_cfg = {
    image_size: 224,
    patch_size: dims.patch,
    width: dims.width,
    layers: dims.visionDepth,
    head_width: 64,
    mlp_ratio: 2.6667,
    rope: true,
    naiveswiglu: true,
    subln: true,
    intp_freq: true,
    postnorm: false,
  };
  writeFileSync(visionConfig, `${JSON.stringify({ embed_dim: dims.clipEmbedDim, vision_cfg }, null, 2)}\n`);
  return { weights: paths.checkpoint, textModel: paths.textDir, visionConfig };
}

export interface FullWidthReport {
  readonly variant: VisualizedVariant;
  readonly width: number;
  readonly ok: boolean;
  readonly checks: readonly VerifyCheck[];
  readonly canarySha256: string;
}

/**
 * `vbge verify`'s canaries on the model in this process — repeated, each alone vs one batch,
 * reversed in batches of 4, 1 vs 2 threads — and once more in a fresh `vbge verify` process, whose
 * canary embeddings must be the same bytes. The fresh process goes through the graph cache (the
 * optimised, prepacked graphs), this one builds the graphs in memory.
 */
export async function checkFullWidth(variant: VisualizedVariant, files: ModelFiles, cacheDir: string): Promise<FullWidthReport> {
  const here = await verifyEncoder((threads) => Encoder.load({ ...files, threads, imageWorkers: 0, graphCache: false }), 2);
  const fresh = await verifyInFreshProcess(files, cacheDir);
  const sameBytes: VerifyCheck = {
    name: 'process-invariant (a fresh vbge verify process, cached optimised graphs)',
    ok: fresh.fingerprint.canarySha256 === here.fingerprint.canarySha256,
    detail: `canary sha256 ${fresh.fingerprint.canarySha256} there, ${here.fingerprint.canarySha256} here`,
  };
  const checks = [...here.checks, ...fresh.checks.map((c) => ({ ...c, name: `fresh process: ${c.name}` })), sameBytes];
  return { variant, width: VISUALIZED_DIMS[variant].width, ok: checks.every((c) => c.ok), checks, canarySha256: here.fingerprint.canarySha256 };
}

function verifyInFreshProcess(files: ModelFiles, cacheDir: string): Promise<VerifyReport> {
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'verify', '--json', '--threads', '2'];
  args.push('--weights', files.weights, '--text-model', files.textModel, '--vision-config', files.visionConfig);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, VBGE_CACHE_DIR: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolvePromise(JSON.parse(stdout) as VerifyReport);
      } catch {
        reject(new Error(`vbge verify exited with ${code} and no report: ${stderr.trim()}`));
      }
    });
  });
}
