/**
 * Retrieval section of `npm run bench` (alone: `npm run bench:retrieval [-- --quick]`):
 *  - indexing throughput: `Index.run` over a folder (hashing, reading, embedding, LanceDB commits)
 *    against bare `encodeSettled` over the same images, interleaved in one process;
 *  - search latency p50/p99 at 10k and 100k clustered 768-d vectors, exact and ANN, on LanceDB and
 *    on Postgres+pgvector (PGlite, served on the wire protocol), with ANN recall@10 against exact.
 * Clustered vectors (1,000 Gaussian clusters) because real embeddings cluster; uniform random
 * high-dimensional vectors defeat every ANN index.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Encoder } from '../src/encoder.js';
import { Index } from '../src/index/index.js';
import { readSources } from '../src/index/sources.js';
import { openStore } from '../src/store/open.js';
import type { StoredRecord } from '../src/store/types.js';
import { prng } from '../src/util/prng.js';
import { startPostgres } from '../test/helpers/pglite-server.js';
import { quantile, round } from './stats.js';

type Row = [string, string, string];
type Log = (line: string) => void;

const DIM = 768;
const CLUSTERS = 1000;
const K = 10;
/** Largest Postgres size in a default run (see --postgres-100k). */
const POSTGRES_DEFAULT_MAX = 10_000;

/** Unit vectors around `CLUSTERS` random centres; noise of norm ≈ 0.6 against centres of norm 1. */
function clusteredVectors(n: number, seed: number): Float32Array {
  const rand = prng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = prng(1234);
  const cg = (): number => Math.sqrt(-2 * Math.log(1 - centres())) * Math.cos(2 * Math.PI * centres());
  const centre = new Float32Array(CLUSTERS * DIM).map(cg);
  const out = new Float32Array(n * DIM);
  const noise = 0.6 / Math.sqrt(DIM);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * CLUSTERS);
    let norm = 0;
    for (let d = 0; d < DIM; d++) {
      const v = centre[c * DIM + d]! / Math.sqrt(DIM) + noise * gauss();
      out[i * DIM + d] = v;
      norm += v * v;
    }
    const s = 1 / Math.sqrt(norm);
    for (let d = 0; d < DIM; d++) out[i * DIM + d]! *= s;
  }
  return out;
}

async function fillStore(location: string, vectors: Float32Array): Promise<void> {
  const store = await openStore(location);
  try {
    await store.create({ format: 'vbge-index/1', dim: DIM, provenance: { bench: 'clustered vectors' }, model: {}, createdAt: new Date(0).toISOString() });
    const n = vectors.length / DIM;
    const chunk = store.kind === 'postgres' ? 500 : 10_000;
    for (let start = 0; start < n; start += chunk) {
      const records: StoredRecord[] = [];
      for (let i = start; i < Math.min(n, start + chunk); i++)
        records.push({ id: `v${String(i).padStart(7, '0')}`, key: 'bench', vector: vectors.slice(i * DIM, (i + 1) * DIM), path: null, text: null, metadata: { cluster: i % 97 } });
      await store.upsert(records);
    }
  } finally {
    await store.close();
  }
}

interface SearchFigures {
  fill_s: number;
  exact_p50_ms: number;
  exact_p99_ms: number;
  exact_first_ms: number;
  ann_build_s: number | null;
  ann_p50_ms: number | null;
  ann_p99_ms: number | null;
  ann_recall_at_10: number | null;
}

async function timeQueries(queries: Float32Array, run: (q: Float32Array) => Promise<string[]>): Promise<{ p50: number; p99: number; ids: string[][] }> {
  const times: number[] = [];
  const ids: string[][] = [];
  for (let i = 0; i < queries.length / DIM; i++) {
    const q = queries.slice(i * DIM, (i + 1) * DIM);
    const t = performance.now();
    ids.push(await run(q));
    times.push(performance.now() - t);
  }
  return { p50: round(quantile(times, 0.5), 2), p99: round(quantile(times, 0.99), 2), ids };
}

async function benchSearch(location: string, n: number, queries: Float32Array, log: Log): Promise<SearchFigures> {
  log(`  filling ${n.toLocaleString('en')} vectors into ${location.startsWith('postgres') ? 'Postgres' : 'LanceDB'} …`);
  const fill = performance.now();
  await fillStore(location, clusteredVectors(n, 42));
  const fillS = (performance.now() - fill) / 1000;
  const index = await Index.open({ location });
  try {
    const first = performance.now();
    await index.searchVector(queries.slice(0, DIM), { k: K });
    const exactFirst = performance.now() - first;
    const exact = await timeQueries(queries, async (q) => (await index.searchVector(q, { k: K })).map((h) => h.id));
    log(`  building the ANN index …`);
    const t = performance.now();
    const built = await index.buildAnn();
    const buildS = (performance.now() - t) / 1000;
    if (!built) return { fill_s: round(fillS, 1), exact_p50_ms: exact.p50, exact_p99_ms: exact.p99, exact_first_ms: round(exactFirst, 1), ann_build_s: null, ann_p50_ms: null, ann_p99_ms: null, ann_recall_at_10: null };
    await index.searchVector(queries.slice(0, DIM), { k: K, ann: true });
    const ann = await timeQueries(queries, async (q) => (await index.searchVector(q, { k: K, ann: true })).map((h) => h.id));
    let found = 0;
    ann.ids.forEach((ids, i) => (found += ids.filter((id) => exact.ids[i]!.includes(id)).length));
    return {
      fill_s: round(fillS, 1),
      exact_p50_ms: exact.p50,
      exact_p99_ms: exact.p99,
      exact_first_ms: round(exactFirst, 1),
      ann_build_s: round(buildS, 1),
      ann_p50_ms: ann.p50,
      ann_p99_ms: ann.p99,
      ann_recall_at_10: round(found / (K * ann.ids.length), 3),
    };
  } finally {
    await index.close();
  }
}

async function benchIndexing(model: { weights: string; textModel: string }, quick: boolean, log: Log): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'vbge-bench-index-'));
  try {
    const images = join(dir, 'images');
    mkdirSync(images);
    const fixtures = resolve('test/fixtures/images');
    const copies = quick ? 1 : 2;
    for (let c = 0; c < copies; c++) for (const name of readdirSync(fixtures)) copyFileSync(join(fixtures, name), join(images, `${c}-${name}`));
    const paths = readdirSync(images).map((n) => join(images, n));
    const encoder = await Encoder.load({ ...model, threads: availableParallelism(), batchSize: 8, graphCache: join(dir, 'cache') });
    try {
      await encoder.encodeSettled(paths.slice(0, 8).map((image) => ({ image }))); // warm-up
      const encodeRates: number[] = [];
      const indexRates: number[] = [];
      for (let rep = 0; rep < 2; rep++) {
        let t = performance.now();
        const results = await encoder.encodeSettled(paths.map((image) => ({ image })));
        if (results.some((r) => !r.ok)) throw new Error('bench images failed to embed');
        encodeRates.push(paths.length / ((performance.now() - t) / 1000));
        log(`  encode: ${encodeRates.at(-1)!.toFixed(2)} images/s`);
        const location = join(dir, `index-${rep}`);
        const index = await Index.open({ location, encoder, create: true });
        t = performance.now();
        const report = await index.run(readSources([images]));
        indexRates.push(report.new / ((performance.now() - t) / 1000));
        await index.close();
        log(`  index:  ${indexRates.at(-1)!.toFixed(2)} items/s (${report.new} new)`);
      }
      const encode = Math.max(...encodeRates);
      const indexing = Math.max(...indexRates);
      return { images: paths.length, encode_images_per_s: round(encode, 2), index_items_per_s: round(indexing, 2), index_vs_encode: round(indexing / encode, 3) };
    } finally {
      await encoder.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchRetrieval(result: Record<string, unknown>, rows: Row[], log: Log, quick: boolean, model: { weights: string; textModel: string }): Promise<void> {
  // --search-only --sizes=100000: one part alone, e.g. to re-measure after tuning.
  const searchOnly = process.argv.includes('--search-only');
  const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
  let indexing: Record<string, number> | undefined;
  if (!searchOnly) {
    log('retrieval: indexing throughput (vbge index pipeline vs bare encode, base model) …');
    indexing = await benchIndexing(model, quick, log);
    rows.push(['retrieval: indexing items/s vs bare encode', `${indexing['index_items_per_s']} vs ${indexing['encode_images_per_s']}`, `${Math.round(indexing['index_vs_encode']! * 100)} % (target ≥ 90 %)`]);
  }

  const queries = clusteredVectors(quick ? 30 : 100, 7);
  const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : quick ? [10_000] : [10_000, 100_000];
  const search: Record<string, Record<string, SearchFigures>> = { lancedb: {}, postgres: {} };
  const dir = mkdtempSync(join(tmpdir(), 'vbge-bench-search-'));
  const postgres = await startPostgres();
  try {
    for (const n of sizes) {
      log(`retrieval: search at ${n.toLocaleString('en')} vectors …`);
      const lance = await benchSearch(join(dir, `lance-${n}`), n, queries, log);
      search['lancedb']![String(n)] = lance;
      rows.push([`search ${n / 1000}k LanceDB exact p50/p99`, `${lance.exact_p50_ms} / ${lance.exact_p99_ms} ms`, n === 100_000 ? 'target p50 ≤ 100 ms' : '']);
      rows.push([`search ${n / 1000}k LanceDB ANN p50/p99, recall@10`, `${lance.ann_p50_ms} / ${lance.ann_p99_ms} ms, ${lance.ann_recall_at_10}`, n === 100_000 ? `target p50 ≤ 10 ms at ≥ 0.95; build ${lance.ann_build_s} s` : `build ${lance.ann_build_s} s`]);
      if (n > POSTGRES_DEFAULT_MAX && !process.argv.includes('--postgres-100k')) {
        rows.push([`search ${n / 1000}k Postgres`, 'not run', 'PGlite (Postgres in WebAssembly, one thread) takes many minutes to fill and index 100k: --postgres-100k runs it']);
        continue;
      }
      const pg = await benchSearch(postgres.url(`bench_${n}`), n, queries, log);
      search['postgres']![String(n)] = pg;
      rows.push([`search ${n / 1000}k Postgres exact p50/p99`, `${pg.exact_p50_ms} / ${pg.exact_p99_ms} ms`, 'PGlite (Postgres in WebAssembly, one thread)']);
      rows.push([`search ${n / 1000}k Postgres HNSW p50/p99, recall@10`, `${pg.ann_p50_ms} / ${pg.ann_p99_ms} ms, ${pg.ann_recall_at_10}`, `build ${pg.ann_build_s} s`]);
    }
  } finally {
    await postgres.close();
    rmSync(dir, { recursive: true, force: true });
  }
  result['retrieval'] = { ...(indexing ? { indexing } : {}), search, k: K, dim: DIM, clusters: CLUSTERS, queries: queries.length / DIM };
}

// `npm run bench:retrieval [-- --quick]`: this section alone, with the bench's full-size random base checkpoint.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const modelDir = join(tmpdir(), 'visualized-bge-bench', 'base');
  const model = { weights: join(modelDir, 'Visualized_base_en_v1.5-random.pth'), textModel: join(modelDir, 'bge-base-en-v1.5-random') };
  if (!existsSync(model.weights) || !existsSync(join(model.textModel, 'config.json'))) {
    const { writeRandomVisualizedCheckpoint } = await import('../test/helpers/random-checkpoint.js');
    process.stderr.write(`writing a full-size random base checkpoint to ${modelDir} …\n`);
    writeRandomVisualizedCheckpoint('base', modelDir);
  }
  const result: Record<string, unknown> = {};
  const rows: Row[] = [];
  await benchRetrieval(result, rows, (line) => process.stderr.write(`${line}\n`), quick, model);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(join('bench/results', `retrieval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result));
}
