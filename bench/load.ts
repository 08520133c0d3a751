/**
 * `npm run bench:load [-- --model tiny|base] [--seconds 60] [--rounds 3] [--quick]`: the server
 * under load, on loopback only, bounded in time.
 *
 *  1. library vs server, on the same inputs, in alternating rounds (the machine may be shared, so
 *     each round compares two runs taken moments apart; the median round is reported): the
 *     encoder's bulk throughput (one encode over every request's inputs) against the server's
 *     (the same requests over HTTP, 8 at a time, coalesced by its queue); goal ≥ 90 %.
 *  2. overload: open-loop load at twice the server's measured capacity for --seconds (default
 *     60): every answer must be 200 or 429 (no 5xx, no connection errors), memory bounded; reports
 *     the accepted throughput and the p50/p99 latency of accepted requests (from the server's own
 *     request log, so fast 429s do not flatter it), and the client-side latency of all answers.
 *
 * The load is generated with fetch on a fixed schedule (open loop) rather than autocannon:
 * autocannon's overallRate caps its connections at the rate, so below a few requests per second
 * (the base model on two cores) it degenerates into one closed-loop connection that never
 * overloads anything.
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
const rounds = Number(option('rounds', quick ? '1' : '3'));
/** Requests in flight at once while measuring the server's throughput. */
const CONCURRENCY = 8;

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

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

/** Every body once, `concurrency` at a time; seconds for all, and any status other than 200. */
async function closedLoop(url: string, bodies: readonly string[], concurrency: number): Promise<{ seconds: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) if ((await post(url, bodies[next++]!)) !== 200) failures++;
    }),
  );
  return { seconds: (performance.now() - start) / 1000, failures };
}

/** Requests sent on a fixed schedule whatever the answers (open loop), for `seconds`. */
async function openLoop(url: string, bodies: readonly string[], perSecond: number, seconds: number) {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i * (1000 / perSecond) < seconds * 1000; i++) {
    const wait = start + i * (1000 / perSecond) - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    pending.push(
      post(url, bodies[i % bodies.length]!).then(
        (status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(performance.now() - sent);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  return { statuses, errors, sent: pending.length, latencies: latencies.sort((a, b) => a - b), elapsed: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const threads = availableParallelism();
  log(`model ${modelKind}, ${threads} threads, ${cpus()[0]?.model ?? 'unknown CPU'}; the machine may be shared with other work`);
  const encoder = await Encoder.load({ ...modelFiles(), threads });
  const { bodies, inputs } = requestBodies();
  const itemsPerRequest = inputs[0]!.length;

  // The server, with a queue that holds what the measuring clients send at once.
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
    limits: { maxQueuedItems: CONCURRENCY * itemsPerRequest, maxItemsPerRequest: 64 },
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // 1. Library and server on the same inputs, alternating.
  const all = inputs.flat();
  await encoder.encode(all.slice(0, 6)); // warm-up
  await closedLoop(url, bodies.slice(0, 2), 2);
  const libraryRates: number[] = [];
  const serverRates: number[] = [];
  let serverFailures = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    await encoder.encode(all);
    libraryRates.push(all.length / ((performance.now() - started) / 1000));
    const pass = await closedLoop(url, bodies, CONCURRENCY);
    serverFailures += pass.failures;
    serverRates.push(all.length / pass.seconds);
    log(`round ${r + 1}/${rounds}: library ${round(libraryRates.at(-1)!)} inputs/s, server ${round(serverRates.at(-1)!)} inputs/s`);
  }
  const ratios = libraryRates.map((l, i) => serverRates[i]! / l);
  const ratio = median(ratios);
  const libraryRate = median(libraryRates);
  const serverRate = median(serverRates);
  const capacityRps = serverRate / itemsPerRequest;

  // 2. Overload: open loop at twice the capacity.
  const rate = 2 * capacityRps;
  const rss: number[] = [];
  const rssBefore = process.memoryUsage().rss;
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000);
  recording = true;
  const overloadBefore = await itemsEmbedded(url);
  const overload = await openLoop(url, bodies, rate, overloadSeconds);
  const overloadItems = (await itemsEmbedded(url)) - overloadBefore;
  const overloadElapsed = overload.elapsed;
  recording = false;
  clearInterval(sampler);
  await server.app.close();
  await encoder.close();

  const statuses = overload.statuses;
  const only200And429 = Object.keys(statuses).every((c) => c === '200' || c === '429') && overload.errors === 0;
  const fiveXx = Object.entries(statuses).filter(([c]) => c.startsWith('5')).reduce((s, [, n]) => s + n, 0);
  accepted.sort((a, b) => a - b);
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const rssSecondQuarter = mean(rss.slice(quarter, 2 * quarter));
  const rssLastQuarter = mean(rss.slice(-quarter));
  const rssMax = Math.max(...rss);
  // Bounded: no growth from the second quarter (warm) to the last beyond 10 %.
  const memoryBounded = rssLastQuarter <= rssSecondQuarter * 1.1;

  const result = {
    model: modelKind,
    threads,
    cpu: cpus()[0]?.model ?? 'unknown',
    sharedMachine: true,
    itemsPerRequest,
    requests: bodies.length,
    rounds: ratios.map((r, i) => ({ libraryInputsPerSecond: round(libraryRates[i]!, 3), serverInputsPerSecond: round(serverRates[i]!, 3), ratio: round(r, 3) })),
    library: { inputsPerSecond: round(libraryRate, 3) },
    server: { inputsPerSecond: round(serverRate, 3), requestsPerSecond: round(capacityRps, 3), concurrency: CONCURRENCY, non200: serverFailures },
    serverVsLibrary: round(ratio, 3),
    overload: {
      offeredRequestsPerSecond: round(rate, 3),
      seconds: overloadSeconds,
      sent: overload.sent,
      statuses,
      errors: overload.errors,
      acceptedRequestsPerSecond: round((statuses['200'] ?? 0) / overloadElapsed, 3),
      inputsPerSecond: round(overloadItems / overloadElapsed, 3),
      acceptedLatencyMs: { p50: round(percentile(accepted, 50), 1), p99: round(percentile(accepted, 99), 1), n: accepted.length },
      allAnswersLatencyMs: { p50: round(percentile(overload.latencies, 50), 1), p99: round(percentile(overload.latencies, 99), 1) },
      rssMiB: { before: round(rssBefore / 2 ** 20, 1), max: round(rssMax / 2 ** 20, 1), secondQuarter: round(rssSecondQuarter / 2 ** 20, 1), lastQuarter: round(rssLastQuarter / 2 ** 20, 1) },
    },
    checks: { only200And429, no5xx: fiveXx === 0, memoryBounded, serverAtLeast90PercentOfLibrary: ratio >= 0.9 },
  };

  const rows: [string, string][] = [
    ['library bulk', `${result.library.inputsPerSecond} inputs/s (median of ${rounds} rounds)`],
    ['server', `${result.server.inputsPerSecond} inputs/s = ${result.server.requestsPerSecond} req/s (${CONCURRENCY} at a time, same inputs)`],
    ['server / library', `${round(ratio * 100, 1)} % (median round; goal ≥ 90 %)`],
    ['overload offered', `${result.overload.offeredRequestsPerSecond} req/s for ${overloadSeconds} s (2x capacity, open loop), ${overload.sent} sent`],
    ['overload answers', `${Object.entries(statuses).map(([c, n]) => `${c}: ${n}`).join(', ')}; connection errors ${overload.errors}`],
    ['overload accepted', `${result.overload.acceptedRequestsPerSecond} req/s, ${result.overload.inputsPerSecond} inputs/s`],
    ['accepted latency', `p50 ${result.overload.acceptedLatencyMs.p50} ms, p99 ${result.overload.acceptedLatencyMs.p99} ms (server-side, ${accepted.length} requests)`],
    ['all answers latency', `p50 ${result.overload.allAnswersLatencyMs.p50} ms, p99 ${result.overload.allAnswersLatencyMs.p99} ms (client-side)`],
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
