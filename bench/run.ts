/**
 * `npm run bench [-- --quick]`: full-size random-weight models (base; m3 unless --quick) measured
 * in one run on this machine. Prints a table; the last line is one JSON object; the same JSON is
 * written to bench/results/bench-<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomVisualizedCheckpoint, type VisualizedVariant } from '../test/helpers/random-checkpoint.js';
import { ORT_VERSION } from '../src/runtime/session.js';
import { cpuInstructionSet } from '../src/runtime/cpu.js';
import { gemmRate } from './gemm.js';
import { benchImagePreprocess } from './image.js';
import { round } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const THREADS = 2;
/** Spec §11: vision tower + projection + BGE over 198 tokens, base model. */
const GFLOP_PER_IMAGE = { base: 70.4, m3: 324.9 };

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function modelFiles(variant: VisualizedVariant): { weights: string; textModel: string } {
  const dir = join(tmpdir(), 'visualized-bge-bench', variant);
  const paths = { weights: join(dir, variant === 'base' ? 'Visualized_base_en_v1.5-random.pth' : 'Visualized_m3-random.pth'), textModel: join(dir, variant === 'base' ? 'bge-base-en-v1.5-random' : 'bge-m3-random') };
  if (!existsSync(paths.weights) || !existsSync(join(paths.textModel, 'config.json'))) {
    log(`writing a full-size random ${variant} checkpoint to ${dir} …`);
    writeRandomVisualizedCheckpoint(variant, dir);
  }
  return paths;
}

function phase(args: object): Record<string, number | string> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/model-bench.ts'), JSON.stringify(args)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = out.trim().split('\n').pop()!;
  return JSON.parse(last) as Record<string, number | string>;
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`visualized-bge bench (${quick ? 'quick' : 'full'}) — ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${cpuInstructionSet()}, ONNX Runtime ${ORT_VERSION}, ${THREADS} threads`);
  const base = modelFiles('base');

  log('GEMM rate (ORT MatMul, M=197, 2 threads) …');
  const g1 = await gemmRate(768, 768);
  const g2 = await gemmRate(768, 3072);
  const gemmGflops = (g1.gflops + g2.gflops) / 2;
  const flopBound = gemmGflops / GFLOP_PER_IMAGE.base;

  log('image preprocessing (1024×768 JPEG) …');
  const image = await benchImagePreprocess(quick ? 20 : 40, 5);

  const cacheDir = mkdtempSync(join(tmpdir(), 'vbge-bench-cache-'));
  const common = { ...base, cacheDir, threads: THREADS, batchSize: 8 };
  log('base: first load (builds and caches the graphs) …');
  const first = phase({ ...common, phase: 'load-first', images: 0 });
  log('base: cached load, bulk images, single image, composed, queries, documents …');
  const main = phase({ ...common, phase: 'main', images: quick ? 16 : 48 });

  let m3: Record<string, number | string> | undefined;
  if (!quick) {
    const m3Files = modelFiles('m3');
    log('m3: first load (builds and caches the graphs) …');
    const m3First = phase({ ...m3Files, cacheDir, threads: THREADS, batchSize: 4, phase: 'load-first', images: 0 });
    log('m3: cached load + bulk images …');
    m3 = { ...phase({ ...m3Files, cacheDir, threads: THREADS, batchSize: 4, phase: 'bulk-only', images: 8 }), load_first_s: m3First['load_s']!, first_load_peak_rss_mb: m3First['peak_rss_mb']! };
  }
  rmSync(cacheDir, { recursive: true, force: true });

  const imagesPerS = Number(main['images_per_s']);
  const result = {
    bench: quick ? 'quick' : 'full',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, isa: cpuInstructionSet(), onnxruntime: ORT_VERSION, threads: THREADS },
    gemm_gflops_768x768: round(g1.gflops, 1),
    gemm_gflops_768x3072: round(g2.gflops, 1),
    gemm_gflops: round(gemmGflops, 1),
    images_per_s: imagesPerS,
    flop_bound_images_per_s: round(flopBound, 3),
    fraction_of_flop_bound: round(imagesPerS / flopBound, 3),
    achieved_gflops: round(imagesPerS * GFLOP_PER_IMAGE.base, 1),
    single_image_ms: main['single_image_ms'],
    composed_per_s: main['composed_per_s'],
    query_p50_ms: main['query_p50_ms'],
    query_p95_ms: main['query_p95_ms'],
    text_docs_per_s: main['text_docs_per_s'],
    load_first_s: first['load_s'],
    load_cached_s: main['load_s'],
    peak_rss_mb: main['peak_rss_mb'],
    bulk_peak_rss_mb: main['bulk_peak_rss_mb'],
    stages_ms_per_image: {
      decode: image.decode_median_ms,
      resize_normalise: image.transform_median_ms,
      preprocess_total: image.median_ms,
      vision_tower: main['vision_ms_per_image'],
      text_encoder: main['text_ms_per_image'],
      queueing: main['queueing_ms_per_image'],
    },
    m3: m3
      ? {
          images_per_s: m3['images_per_s'],
          flop_bound_images_per_s: round(gemmGflops / GFLOP_PER_IMAGE.m3, 3),
          load_first_s: m3['load_first_s'],
          load_cached_s: m3['load_s'],
          peak_rss_mb: m3['peak_rss_mb'],
          first_load_peak_rss_mb: m3['first_load_peak_rss_mb'],
        }
      : null,
    seconds: round((Date.now() - started) / 1000, 1),
  };

  const rows: [string, string, string][] = [
    ['GEMM rate, 768×768 / 768×3072 at M=197', `${result.gemm_gflops_768x768} / ${result.gemm_gflops_768x3072} GFLOP/s`, ''],
    ['FLOP-bound images/s (70.4 GFLOP ÷ GEMM rate)', `${result.flop_bound_images_per_s}`, ''],
    ['bulk images/s (batch 8)', `${imagesPerS}`, `${round(100 * result.fraction_of_flop_bound, 1)} % of FLOP bound (target ≥ 90 %)`],
    ['single image, batch 1', `${result.single_image_ms} ms`, 'target ≤ 450 ms'],
    ['composed (image + 16 tokens)/s', `${result.composed_per_s}`, ''],
    ['text query p50 / p95 (16 tokens)', `${result.query_p50_ms} / ${result.query_p95_ms} ms`, 'target p50 ≤ 20 ms'],
    ['text documents/s (32 tokens, batch 32)', `${result.text_docs_per_s}`, ''],
    ['model load: first / cached graph', `${result.load_first_s} / ${result.load_cached_s} s`, 'target cached ≤ 3 s'],
    ['peak RSS (bulk images, whole run)', `${result.bulk_peak_rss_mb} / ${result.peak_rss_mb} MB`, 'target ≤ 1600 MB'],
    ['stage: decode / resize+normalise', `${image.decode_median_ms} / ${image.transform_median_ms} ms`, `preprocess total ${image.median_ms} ms (target ≤ 15 ms)`],
    ['stage: vision tower / text encoder / queueing', `${result.stages_ms_per_image.vision_tower} / ${result.stages_ms_per_image.text_encoder} / ${result.stages_ms_per_image.queueing} ms per image`, ''],
  ];
  if (m3) {
    rows.push(['m3: bulk images/s (batch 4)', `${m3['images_per_s']}`, `FLOP bound ${result.m3!.flop_bound_images_per_s} img/s (324.9 GFLOP per image)`]);
    rows.push(['m3: load first / cached; peak RSS bulk / first load', `${m3['load_first_s']} / ${m3['load_s']} s; ${m3['peak_rss_mb']} / ${m3['first_load_peak_rss_mb']} MB`, '']);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}

await main();
