/**
 * `npm run bench:load [-- --model tiny|base] [--seconds 60] [--quick]`: the server under load, on
 * loopback only, bounded in time.
 *
 *  1. library: the encoder's bulk throughput on the requests' inputs (encode over all of them);
 *  2. capacity: closed-loop load (autocannon) that keeps the queue busy without overflowing it:
 *     the server's throughput, compared with the library's (goal ≥ 90 %);
 *  3. overload: open-loop load at twice that capacity for --seconds (default 60): every answer
 *     must be 200 or 429 (no 5xx, no errors or timeouts), memory bounded; reports throughput and
 *     the p50/p99 latency of accepted requests (from the server's own request log, so 429s do not
 *     flatter it), and autocannon's latency of all answers.
 *
 * `base` is a full-size random-weight base model (written to the OS temp folder on first use, as
 * `npm run bench` does); `tiny` is the test fixture model, where HTTP and JSON costs dominate.
 * Prints a table; writes bench/results/load-<timestamp>.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { Encoder, type EncodeInput } from '../src/encoder.js';
import { createServer } from '../src/server/app.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { writeRandomVisualizedCheckpoint } from '../test/helpers/random-checkpoint.js';
import { fixtureModelFiles } from '../test/helpers/tiny-model.js';
import { round } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const quick = args.includes('--quick');
const modelKind = option('model', 'base');
const overloadSeconds = Number(option('seconds', quick ? '15' : '60'));
const capacitySeconds = quick ? 10 : 20;
const libraryMinSeconds = quick ? 5 : 10;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function modelFiles(): { weights: string; textModel: string; visionConfig?: string } {
  if (modelKind === 'tiny') return fixtureModelFiles('tiny-bert');
  if (modelKind !== 'base') throw new Error(`--model must be tiny or base; got ${modelKind}`);
  const dir = join(tmpdir(), 'visualized-bge-bench', 'base');
  const files = { weights: join(dir, 'Visualized_base_en_v1.5-random.pth'), textModel: join(dir, 'bge-base-en-v1.5-random') };
  if (!existsSync(files.weights) || !existsSync(join(files.textModel, 'config.json'))) {
    log(`writing a full-size random base checkpoint to ${dir} …`);
    writeRandomVisualizedCheckpoint('base', dir);
  }
  return files;
}

/** The requests: two texts and one composed item each, images cycling through small fixtures. */
function requestBodies(): { bodies: string[]; inputs: EncodeInput[][] } {
  const images = ['cir_candi_1.png', 'synth_baseline_q90.jpg', 'synth_progressive_q90.jpg', 'wiki_candi_1.jpg', 'synth_small_50x40.png'].map((f) =>
    readFileSync(fixturePath('tiny-bert', `../images/${f}`)),
  );
  const texts = ['a dog on the beach', 'two cats asleep on a sofa', 'a red car in the snow', 'a bridge at sunset over the bay', 'a bowl of ramen', 'children playing football'];
  const bodies: string[] = [];
  const inputs: EncodeInput[][] = [];
  for (let r = 0; r < 16; r++) {
    const image = images[r % images.length]!;
    const items: { text: string; image?: Buffer }[] = [{ text: texts[r % texts.length]! }, { text: `${texts[(r + 3) % texts.length]!} (${r})` }, { text: 'make it brighter', image }];
    inputs.push(items);
    bodies.push(
      JSON.stringify({
        model: 'visualized-bge',
        encoding_format: 'base64',
        input: items.map((it) => (it.image ? { text: it.text, image: `data:image/png;base64,${it.image.toString('base64')}` } : { text: it.text })),
      }),
    );
  }
  return { bodies, inputs };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function itemsEmbedded(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^vbge_items_embedded_total\{kind="\w+"\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

function cannon(options: autocannon.Options): Promise<Result> {
  return new Promise((done, fail) => {
    autocannon(options, (err, result) => (err ? fail(err) : done(result)));
  });
}

async function main(): Promise<void> {
  const threads = availableParallelism();
  log(`model ${modelKind}, ${threads} threads, ${cpus()[0]?.model ?? 'unknown CPU'}; the machine may be shared with other work`);
  const encoder = await Encoder.load({ ...modelFiles(), threads });
  const { bodies, inputs } = requestBodies();
  const itemsPerRequest = inputs[0]!.length;

  // 1. The library's bulk throughput on the same inputs.
  const all = inputs.flat();
  await encoder.encode(all.slice(0, 6)); // warm-up
  let libraryItems = 0;
  const libraryStart = performance.now();
  while (performance.now() - libraryStart < libraryMinSeconds * 1000) {
    await encoder.encode(all);
    libraryItems += all.length;
  }
  const librarySeconds = (performance.now() - libraryStart) / 1000;
  const libraryRate = libraryItems / librarySeconds;
  log(`library: ${libraryItems} inputs in ${round(librarySeconds, 1)} s = ${round(libraryRate, 2)} inputs/s`);

  // The server, with a queue that holds what the capacity phase's connections send.
  const connections = 8;
  const accepted: number[] = [];
  let recording = false;
  const requestLog = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (recording)
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.includes('"msg":"request"')) continue;
          const entry = JSON.parse(line) as { status: number; ms: number; route: string };
          if (entry.route === '/v1/embeddings' && entry.status === 200) accepted.push(entry.ms);
        }
      done();
    },
  });
  const server = await createServer({
    encoder,
    modelNames: ['visualized-bge'],
    log: requestLog,
    limits: { maxQueuedItems: connections * itemsPerRequest, maxItemsPerRequest: 64 },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const requests = bodies.map((body) => ({ method: 'POST' as const, path: '/v1/embeddings', headers: { 'content-type': 'application/json' }, body }));

  // 2. Capacity: closed loop, queue busy but never full.
  const before = await itemsEmbedded(url);
  const capacityStart = performance.now();
  const capacity = await cannon({ url, connections, duration: capacitySeconds, requests, timeout: 120 });
  const capacityItems = (await itemsEmbedded(url)) - before;
  const serverRate = capacityItems / ((performance.now() - capacityStart) / 1000);
  const capacityRps = serverRate / itemsPerRequest;
  log(`capacity: ${round(serverRate, 2)} inputs/s (${round(capacityRps, 2)} requests/s), ${capacity.non2xx} non-2xx`);

  // 3. Overload: open loop at twice the capacity.
  const rate = Math.max(1, Math.round(2 * capacityRps));
  const rss: number[] = [];
  const rssBefore = process.memoryUsage().rss;
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
  recording = true;
  const overloadBefore = await itemsEmbedded(url);
  const overloadStart = performance.now();
  const overload = await cannon({ url, connections: 64, overallRate: rate, duration: overloadSeconds, requests, timeout: 120 });
  const overloadItems = (await itemsEmbedded(url)) - overloadBefore;
  const overloadElapsed = (performance.now() - overloadStart) / 1000;
  recording = false;
  clearInterval(sampler);
  await server.app.close();
  await encoder.close();

  const statuses = Object.fromEntries(Object.entries(overload.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const only200And429 = Object.keys(statuses).every((c) => c === '200' || c === '429') && overload.errors === 0 && overload.timeouts === 0;
  const fiveXx = Object.entries(statuses).filter(([c]) => c.startsWith('5')).reduce((s, [, n]) => s + n, 0);
  accepted.sort((a, b) => a - b);
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const rssSecondQuarter = mean(rss.slice(quarter, 2 * quarter));
  const rssLastQuarter = mean(rss.slice(-quarter));
  const rssMax = Math.max(...rss);
  // Bounded: no growth from the second quarter (warm) to the last beyond 10 %.
  const memoryBounded = rssLastQuarter <= rssSecondQuarter * 1.1;
  const ratio = serverRate / libraryRate;

  const result = {
    model: modelKind,
    threads,
    cpu: cpus()[0]?.model ?? 'unknown',
    sharedMachine: true,
    itemsPerRequest,
    library: { inputsPerSecond: round(libraryRate, 3), inputs: libraryItems, seconds: round(librarySeconds, 2) },
    capacity: { inputsPerSecond: round(serverRate, 3), requestsPerSecond: round(capacityRps, 3), connections, seconds: capacitySeconds, non2xx: capacity.non2xx },
    serverVsLibrary: round(ratio, 3),
    overload: {
      offeredRequestsPerSecond: rate,
      seconds: overloadSeconds,
      connections: 64,
      statuses,
      errors: overload.errors,
      timeouts: overload.timeouts,
      acceptedRequestsPerSecond: round((statuses['200'] ?? 0) / overloadElapsed, 3),
      inputsPerSecond: round(overloadItems / overloadElapsed, 3),
      acceptedLatencyMs: { p50: round(percentile(accepted, 50), 1), p99: round(percentile(accepted, 99), 1), n: accepted.length },
      allAnswersLatencyMs: { p50: overload.latency.p50, p99: overload.latency.p99 },
      rssMiB: { before: round(rssBefore / 2 ** 20, 1), max: round(rssMax / 2 ** 20, 1), secondQuarter: round(rssSecondQuarter / 2 ** 20, 1), lastQuarter: round(rssLastQuarter / 2 ** 20, 1) },
    },
    checks: { only200And429, no5xx: fiveXx === 0, memoryBounded, serverAtLeast90PercentOfLibrary: ratio >= 0.9 },
  };

  const rows: [string, string][] = [
    ['library bulk', `${result.library.inputsPerSecond} inputs/s`],
    ['server at capacity', `${result.capacity.inputsPerSecond} inputs/s (${result.capacity.requestsPerSecond} req/s, ${connections} connections)`],
    ['server / library', `${round(ratio * 100, 1)} % (goal ≥ 90 %)`],
    ['overload offered', `${rate} req/s for ${overloadSeconds} s (2x capacity, 64 connections)`],
    ['overload answers', Object.entries(statuses).map(([c, n]) => `${c}: ${n}`).join(', ') + `; errors ${overload.errors}, timeouts ${overload.timeouts}`],
    ['overload accepted', `${result.overload.acceptedRequestsPerSecond} req/s, ${result.overload.inputsPerSecond} inputs/s`],
    ['accepted latency', `p50 ${result.overload.acceptedLatencyMs.p50} ms, p99 ${result.overload.acceptedLatencyMs.p99} ms (server-side, ${accepted.length} requests)`],
    ['all answers latency', `p50 ${overload.latency.p50} ms, p99 ${overload.latency.p99} ms (autocannon)`],
    ['memory (RSS)', `${result.overload.rssMiB.before} MiB before, max ${result.overload.rssMiB.max} MiB; 2nd quarter ${result.overload.rssMiB.secondQuarter} → last ${result.overload.rssMiB.lastQuarter} MiB`],
    ['checks', Object.entries(result.checks).map(([k, v]) => `${k} ${v ? 'ok' : 'FAILED'}`).join(', ')],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  log(`written ${file}`);
  if (!Object.values(result.checks).every(Boolean)) process.exitCode = 1;
}

await main();
