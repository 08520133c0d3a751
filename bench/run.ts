/**
 * `npm run bench [-- --quick]`: full-size random-weight models (base; m3 unless --quick) measured
 * in one run on this machine, beside the CPU's FMA peak measured in the same run. Prints a table;
 * the last line is one JSON object; the same JSON is written to bench/results/bench-<timestamp>.json.
 *
 * Sections add their figures to `result` and their lines to `rows`; a new section is one more
 * block in main().
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomVisualizedCheckpoint, type VisualizedVariant } from '../test/helpers/random-checkpoint.js';
import { ATTENTION_BLOCK_ROWS } from '../src/model/bert.js';
import { ORT_VERSION } from '../src/runtime/session.js';
import { cpuInstructionSet } from '../src/runtime/cpu.js';
import { benchCliEmbed } from './cli-embed.js';
import { fmaPeak } from './fma-peak.js';
import { gemmRate } from './gemm.js';
import { type GemmCeiling, gemmCeiling, imageProducts, textProducts } from './gemm-ceiling.js';
import { benchImagePreprocess, syntheticPhotoJpeg } from './image.js';
import { GFLOP_PER_IMAGE, secondsAtPeak, shareOfPeak, textGflop } from './cost-model.js';
import { median, round } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
/** The tuned settings: every core (also the library's default) and batches of 8. */
const THREADS = availableParallelism();
const BATCH = 8;

type Json = Record<string, unknown>;
const result: Json = {};
const rows: [string, string, string][] = [];

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

/**
 * Cached loads, each in a fresh process against the warm graph cache: the phase's own load and
 * `more` load-only processes. One load on a shared host reads anywhere in a ±50 % band; the
 * median of three is the figure to compare.
 */
function cachedLoads(first: number | string | undefined, args: object, more = 2): { median_s: number; runs_s: number[] } {
  const runs = [Number(first)];
  for (let i = 0; i < more; i++) runs.push(Number(phase({ ...args, phase: 'load-first', images: 0 })['load_s']));
  return { median_s: round(median(runs), 2), runs_s: runs };
}

/** One phase of bench/model-bench.ts (or another script) in its own process, so that its peak RSS is its own. */
function phase(args: object, script = 'bench/model-bench.ts'): Record<string, number | string> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, script), JSON.stringify(args)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string>;
}

/**
 * The FMA peak: the best of three probes taken before anything else runs (other tenants only ever
 * take from it), so that every fraction in one run is against the same peak.
 */
let peak: number | null = null;
function measurePeak(): void {
  const p = fmaPeak(THREADS);
  if (p.gflops === null) result['fma_peak'] = `unavailable: ${p.unavailable}`;
  else peak = Math.max(peak ?? 0, p.gflops);
}
const ofPeak = (imagesPerS: number, gflopPerImage: number): number | null => {
  const share = shareOfPeak(imagesPerS * gflopPerImage, 1, peak);
  return share === null ? null : round(share, 3);
};
const pct = (f: unknown): string => (typeof f === 'number' ? `${round(100 * f, 1)} %` : 'unavailable');

/**
 * A latency against the run's peak: the share of the peak it reaches, the least time the same work
 * takes at the peak itself, and the share of this peak that the absolute target would take (over
 * 100 %: no code reaches it on this machine). Added to `result.latency_vs_fma_peak[name]`; returns
 * the table's note.
 */
function latencyVsPeak(name: string, gflop: number, seconds: number, targetSeconds: number | null, unit: 'ms' | 's'): string {
  const atPeak = secondsAtPeak(gflop, peak);
  const targetShare = targetSeconds === null ? null : shareOfPeak(gflop, targetSeconds, peak);
  const share = shareOfPeak(gflop, seconds, peak);
  const table = (result['latency_vs_fma_peak'] ??= {}) as Json;
  table[name] = {
    gflop: round(gflop, 2),
    seconds: round(seconds, 4),
    fraction_of_fma_peak: share === null ? null : round(share, 3),
    seconds_at_fma_peak: atPeak === null ? null : round(atPeak, 4),
    target_seconds: targetSeconds,
    target_needs_fraction_of_fma_peak: targetShare === null ? null : round(targetShare, 3),
  };
  if (peak === null) return '';
  const show = (s: number): string => (unit === 'ms' ? `${round(s * 1000, 1)} ms` : `${round(s, 1)} s`);
  const target = targetSeconds === null || targetShare === null ? '' : `; the target ${show(targetSeconds)} takes ${pct(targetShare)} of it${targetShare > 1 ? ': beyond this machine' : ''}`;
  return `${pct(share)} of FMA peak (${round(gflop, 1)} GFLOP); at the peak itself ${show(atPeak!)}${target}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, isa: cpuInstructionSet(), onnxruntime: ORT_VERSION, threads: THREADS, batch_size: BATCH, load_average_1m: round(loadavg()[0]!, 2) };
  log(`visualized-bge bench (${quick ? 'quick' : 'full'}) — ${machine.cpu} ×${machine.cores}, ${machine.isa}, ONNX Runtime ${ORT_VERSION}, ${THREADS} threads`);
  result['bench'] = quick ? 'quick' : 'full';
  result['machine'] = machine;
  const base = modelFiles('base');

  log(`FMA peak (${THREADS} threads) …`);
  for (let i = 0; i < 3; i++) measurePeak();

  log(`GEMM rate (ORT MatMul + bias, M = 197 and 1576, ${THREADS} threads) …`);
  // A first shape warms the process up (clock, page faults), so that no measured shape pays for it.
  await gemmRate(768, 768, 197, THREADS, 0.5);
  const gemm: Record<string, number> = {};
  for (const [k, n, m] of [[768, 768, 197], [768, 2048, 197], [768, 768, 1576], [768, 2048, 1576], [2048, 768, 1576]] as const) gemm[`${m}x${k}x${n}`] = round((await gemmRate(k, n, m, THREADS)).gflops, 1);
  result['gemm_gflops'] = gemm;
  rows.push(['GEMM rate (M×K×N), one image / a batch of 8', Object.entries(gemm).map(([s, r]) => `${s} ${r}${peak === null ? '' : ` (${Math.round((100 * r) / peak)} %)`}`).join(', '), 'GFLOP/s (% of FMA peak)']);

  log('GEMM ceiling: every product of the model timed alone …');
  const shapeRates = new Map<string, number>();
  const ceiling = {
    base_bulk: await gemmCeiling(imageProducts('base', BATCH), BATCH, THREADS, shapeRates),
    base_one_image: await gemmCeiling(imageProducts('base', 1), 1, THREADS, shapeRates),
    base_query_16: await gemmCeiling(textProducts('base', 1, 16), 1, THREADS, shapeRates),
    ...(quick
      ? {}
      : {
          m3_bulk: await gemmCeiling(imageProducts('m3', 4), 4, THREADS, shapeRates),
          m3_text_8192: await gemmCeiling(textProducts('m3', 1, 8192, ATTENTION_BLOCK_ROWS), 1, THREADS, shapeRates),
        }),
  };
  result['gemm_ceiling'] = ceiling;
  const ceilingPerS = (c: GemmCeiling): number => round(1000 / c.ms_per_item, 3);
  rows.push([
    'GEMM ceiling (every product at its rate alone, nothing else costs)',
    `bulk ${ceilingPerS(ceiling.base_bulk)} images/s = ${pct(ofPeak(ceilingPerS(ceiling.base_bulk), GFLOP_PER_IMAGE.base))} of peak; one image ${ceiling.base_one_image.ms_per_item} ms; 16-token query ${ceiling.base_query_16.ms_per_item} ms` +
      (ceiling.m3_bulk ? `; m3 bulk ${ceilingPerS(ceiling.m3_bulk)} images/s = ${pct(ofPeak(ceilingPerS(ceiling.m3_bulk), GFLOP_PER_IMAGE.m3))}` : '') +
      (ceiling.m3_text_8192 ? `; m3 8192-token text ${round(ceiling.m3_text_8192.ms_per_item / 1000, 1)} s` : ''),
    `the most any graph on these kernels can show (targets 75 %, 180 ms, 12 ms; m3 70 %${quick ? '' : ', 60 s'})`,
  ]);

  log('image preprocessing (1024×768 JPEG) …');
  const image = await benchImagePreprocess(quick ? 20 : 40, 5);

  const cacheDir = mkdtempSync(join(tmpdir(), 'vbge-bench-cache-'));
  try {
    const common = { ...base, cacheDir, threads: THREADS, batchSize: BATCH };
    log('base: first load (builds and caches the graphs) …');
    const first = phase({ ...common, phase: 'load-first', images: 0 });
    log('base: cached load, bulk images, single image, composed, queries, documents …');
    const main = phase({ ...common, phase: 'main', images: quick ? 16 : 48 });
    const imagesPerS = Number(main['images_per_s']);
    log('base: two more cached loads …');
    const baseLoads = cachedLoads(main['load_s'], common);
    Object.assign(result, {
      fma_peak_gflops: peak,
      images_per_s: imagesPerS,
      first_batch_ms_per_image: main['first_batch_ms_per_image'],
      achieved_gflops: round(imagesPerS * GFLOP_PER_IMAGE.base, 1),
      fraction_of_fma_peak: ofPeak(imagesPerS, GFLOP_PER_IMAGE.base),
      // The graph's share of what its products alone would allow (gemm_ceiling): the rest is everything between them.
      fraction_of_gemm_ceiling: round(imagesPerS / ceilingPerS(ceiling.base_bulk), 3),
      // The same per CPU-second the process got: on a shared host (other tenants, load average
      // above the core count) the wall-clock fraction measures the neighbours, this one the code.
      fraction_of_fma_peak_per_cpu_second: typeof main['bulk_thread_idle_fraction'] === 'number' ? ofPeak(imagesPerS / Math.max(0.01, 1 - main['bulk_thread_idle_fraction']), GFLOP_PER_IMAGE.base) : null,
      single_image_ms: main['single_image_ms'],
      composed_per_s: main['composed_per_s'],
      query_p50_ms: main['query_p50_ms'],
      query_p95_ms: main['query_p95_ms'],
      text_docs_per_s: main['text_docs_per_s'],
      load_first_s: first['load_s'],
      load_cached_s: baseLoads.median_s,
      load_cached_runs_s: baseLoads.runs_s,
      peak_rss_mb: main['peak_rss_mb'],
      bulk_peak_rss_mb: main['bulk_peak_rss_mb'],
      bulk_thread_idle_fraction: main['bulk_thread_idle_fraction'],
      stages_ms_per_image: {
        decode: image.decode_median_ms,
        resize_normalise: image.transform_median_ms,
        preprocess_total: image.median_ms,
        vision_tower: main['vision_ms_per_image'],
        text_encoder: main['text_ms_per_image'],
        queueing: main['queueing_ms_per_image'],
      },
    });
    rows.push(
      ['FMA peak (register-resident FMA loop, same run)', peak === null ? String(result['fma_peak']) : `${peak} GFLOP/s`, `${THREADS} threads`],
      [`bulk images/s (batch ${BATCH}, steady state)`, `${imagesPerS}`, `${result['achieved_gflops']} GFLOP/s = ${pct(result['fraction_of_fma_peak'])} of FMA peak (target ≥ 75 %); per CPU-second used: ${pct(result['fraction_of_fma_peak_per_cpu_second'])}; ${pct(result['fraction_of_gemm_ceiling'])} of the GEMM ceiling; the process's first batch ${main['first_batch_ms_per_image']} ms/image`],
      ['single image, batch 1', `${main['single_image_ms']} ms`, latencyVsPeak('single_image', GFLOP_PER_IMAGE.base, Number(main['single_image_ms']) / 1000, 0.18, 'ms')],
      ['composed (image + 16 tokens)/s', `${main['composed_per_s']}`, ''],
      ['text query p50 / p95 (16 tokens)', `${main['query_p50_ms']} / ${main['query_p95_ms']} ms`, `p50: ${latencyVsPeak('query_16_tokens_p50', textGflop('base', 16), Number(main['query_p50_ms']) / 1000, 0.012, 'ms')}`],
      ['text documents/s (32 tokens, batch 32)', `${main['text_docs_per_s']}`, ''],
      ['model load: first / cached graph', `${first['load_s']} / ${baseLoads.median_s} s`, `cached: median of ${baseLoads.runs_s.join(', ')} s`],
      ['peak RSS (bulk images, whole run)', `${main['bulk_peak_rss_mb']} / ${main['peak_rss_mb']} MB`, 'target ≤ 1200 MB'],
      ['stage: decode / resize+normalise', `${image.decode_median_ms} / ${image.transform_median_ms} ms`, `preprocess total ${image.median_ms} ms`],
      ['stage: vision tower / text encoder / queueing', `${main['vision_ms_per_image']} / ${main['text_ms_per_image']} / ${main['queueing_ms_per_image']} ms per image`, `threads idle ${pct(main['bulk_thread_idle_fraction'])} of the bulk run`],
    );

    // What a user's collection holds: phone photos, where decoding a 12-megapixel JPEG costs about
    // as much CPU as the model's work on the image.
    log('base: bulk 12-megapixel photos …');
    const photos = phase({ ...common, phase: 'bulk-only', images: quick ? 8 : 24, photo: [4032, 3024] });
    result['photos_12mp'] = {
      images_per_s: photos['images_per_s'],
      vision_ms_per_image: photos['vision_ms_per_image'],
      text_ms_per_image: photos['text_ms_per_image'],
      preprocessing_and_queueing_ms_per_image: photos['queueing_ms_per_image'],
      bulk_peak_rss_mb: photos['bulk_peak_rss_mb'],
    };
    rows.push([
      `bulk 12-megapixel JPEG photos/s (4032×3024, batch ${BATCH})`,
      `${photos['images_per_s']}`,
      `vision / text / decoding and the rest ${photos['vision_ms_per_image']} / ${photos['text_ms_per_image']} / ${photos['queueing_ms_per_image']} ms per image; peak RSS ${photos['bulk_peak_rss_mb']} MB`,
    ]);

    log('base: vbge embed with default options vs tuned, interleaved …');
    const cli = benchCliEmbed({ ...base, cacheDir, jpeg: await syntheticPhotoJpeg(), images: quick ? 16 : 32, tuned: ['--threads', String(THREADS), '--batch-size', String(BATCH)], rounds: quick ? 2 : 4 });
    result['cli_embed'] = cli;
    rows.push([`vbge embed ${cli.images} images: defaults / ${cli.tuned_options}`, `${cli.default_s} / ${cli.tuned_s} s`, `ratio ${cli.default_vs_tuned} (target ≤ 1.05), same output: ${cli.same_output}`]);

    log('base: ONNX Runtime profile of bulk images …');
    const profile = phase({ ...base, threads: THREADS, batchSize: BATCH, batches: quick ? 1 : 2 }, 'bench/profile.ts');
    result['profile'] = profile;
    const top = (profile['top_non_gemm'] as unknown as { op: string; ms: number; fraction: number }[]).map((t) => `${t.op} ${pct(t.fraction)}`).join(', ');
    rows.push(
      ['profile: GEMM share of kernel time', pct(profile['gemm_fraction']), `between kernels ${profile['between_kernels_ms']} of ${profile['run_ms']} ms; threads idle ${pct(profile['thread_idle_fraction'])}`],
      ['profile: top non-GEMM ops', top, ''],
    );

    log('base: one 512-token text …');
    const long = phase({ ...common, phase: 'long-text', tokens: 512, images: 0 });
    result['long_text_base_512'] = { seconds: long['long_text_s'], peak_rss_mb: long['peak_rss_mb'] };
    rows.push(['base: one 512-token text', `${long['long_text_s']} s`, `peak RSS ${long['peak_rss_mb']} MB; ${latencyVsPeak('base_text_512_tokens', textGflop('base', 512), Number(long['long_text_s']), null, 's')}`]);

    if (!quick) {
      const m3Files = modelFiles('m3');
      const m3Common = { ...m3Files, cacheDir, threads: THREADS, batchSize: 4 };
      log('m3: first load (builds and caches the graphs) …');
      const m3First = phase({ ...m3Common, phase: 'load-first', images: 0 });
      log('m3: cached load + bulk images …');
      const m3 = phase({ ...m3Common, phase: 'bulk-only', images: 8 });
      log('m3: one 8192-token text …');
      const m3Long = phase({ ...m3Common, phase: 'long-text', tokens: 8192, images: 0 });
      const m3PerS = Number(m3['images_per_s']);
      const m3OfCeiling = ceiling.m3_bulk ? round(m3PerS / ceilingPerS(ceiling.m3_bulk), 3) : null;
      const m3LongOfCeiling = ceiling.m3_text_8192 ? round(ceiling.m3_text_8192.ms_per_item / 1000 / Number(m3Long['long_text_s']), 3) : null;
      log('m3: two more cached loads …');
      const m3Loads = cachedLoads(m3['load_s'], m3Common);
      result['m3'] = {
        images_per_s: m3PerS,
        first_batch_ms_per_image: m3['first_batch_ms_per_image'],
        fraction_of_fma_peak: ofPeak(m3PerS, GFLOP_PER_IMAGE.m3),
        fraction_of_gemm_ceiling: m3OfCeiling,
        load_first_s: m3First['load_s'],
        load_cached_s: m3Loads.median_s,
        load_cached_runs_s: m3Loads.runs_s,
        peak_rss_mb: m3['peak_rss_mb'],
        first_load_peak_rss_mb: m3First['peak_rss_mb'],
        long_text_8192: {
          seconds: m3Long['long_text_s'],
          peak_rss_mb: m3Long['peak_rss_mb'],
          fraction_of_gemm_ceiling: m3LongOfCeiling,
        },
      };
      rows.push(
        ['m3: bulk images/s (batch 4, steady state)', `${m3PerS}`, `${pct(ofPeak(m3PerS, GFLOP_PER_IMAGE.m3))} of FMA peak (target ≥ 70 %)${m3OfCeiling === null ? '' : `, ${pct(m3OfCeiling)} of the GEMM ceiling`}; the process's first batch ${m3['first_batch_ms_per_image']} ms/image`],
        ['m3: load first / cached; peak RSS bulk / first load', `${m3First['load_s']} / ${m3Loads.median_s} s; ${m3['peak_rss_mb']} / ${m3First['peak_rss_mb']} MB`, `target cached ≤ 2 s (median of ${m3Loads.runs_s.join(', ')} s)`],
        ['m3: one 8192-token text', `${m3Long['long_text_s']} s`, `peak RSS ${m3Long['peak_rss_mb']} MB (target ≤ 4000 MB); ${latencyVsPeak('m3_text_8192_tokens', textGflop('m3', 8192), Number(m3Long['long_text_s']), 60, 's')}${m3LongOfCeiling === null ? '' : `; ${pct(m3LongOfCeiling)} of its GEMM ceiling`}`],
      );
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  await (await import('./determinism.js')).benchDeterminism(result, rows, log, quick);
  await (await import('./retrieval.js')).benchRetrieval(result, rows, log, quick, base);
  result['seconds'] = round((Date.now() - started) / 1000, 1);

  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}

await main();
