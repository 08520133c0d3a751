/**
 * One benchmark phase in its own process, so that its peak RSS is its own. Prints one JSON
 * object as its last line. Run by bench/run.ts.
 */
import { Encoder } from '../src/encoder.js';
import { syntheticPhotoJpeg } from './image.js';
import { median, quantile, round } from './stats.js';

interface Args {
  phase: 'load-first' | 'main' | 'bulk-only' | 'long-text';
  /** long-text: the text's token count (CLS and SEP included). */
  tokens?: number;
  weights: string;
  textModel: string;
  cacheDir: string;
  threads: number;
  images: number;
  batchSize: number;
  /** The JPEG's width and height (default: bench/image.ts's 1024×768 photo). */
  photo?: [number, number];
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

function maxRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 0);
}

/** A text of exactly `tokens` tokens (CLS and SEP included) for this tokenizer. */
function textOfTokens(encoder: Encoder, tokens: number, seed: number): string {
  if (tokens > 64) return longTextOfTokens(encoder, tokens, seed);
  const words = ['photo', 'dog', 'beach', 'house', 'river', 'red', 'car', 'night', 'white', 'old', 'people', 'green', 'grass', 'blue', 'sky', 'cat'];
  const out: string[] = [];
  let i = seed;
  while (encoder.tokenizer.encode(out.join(' ')).length < tokens) out.push(words[i++ % words.length]!);
  while (encoder.tokenizer.encode(out.join(' ')).length > tokens) out.pop();
  let text = out.join(' ');
  while (encoder.tokenizer.encode(text).length < tokens) text += ' a';
  return text;
}

/** The same for long texts, in a logarithmic number of tokenizer calls. */
function longTextOfTokens(encoder: Encoder, tokens: number, seed: number): string {
  const words = ['photo', 'dog', 'beach', 'house', 'river', 'red', 'car', 'night', 'white', 'old', 'people', 'green', 'grass', 'blue', 'sky', 'cat'];
  const text = (n: number): string => Array.from({ length: n }, (_, i) => words[(seed + i) % words.length]!).join(' ');
  let lo = 0;
  let hi = tokens;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encoder.tokenizer.encode(text(mid)).length <= tokens) lo = mid;
    else hi = mid - 1;
  }
  let out = text(lo);
  while (encoder.tokenizer.encode(out).length < tokens) out += ' a';
  if (encoder.tokenizer.encode(out).length !== tokens) throw new Error(`no text of exactly ${tokens} tokens`);
  return out;
}

async function main(): Promise<void> {
  const stages = { vision: 0, text: 0 };
  const t0 = performance.now();
  const encoder = await Encoder.load({
    weights: args.weights,
    textModel: args.textModel,
    graphCache: args.cacheDir,
    threads: args.threads,
    batchSize: args.batchSize,
    onStage: (stage, ms) => (stages[stage] += ms),
  });
  const loadS = (performance.now() - t0) / 1000;
  const result: Record<string, number | string> = { phase: args.phase, load_s: round(loadS, 2), graph_source: encoder.graphSource };
  if (args.phase === 'load-first') {
    result['peak_rss_mb'] = maxRssMb();
    await encoder.close();
    console.log(JSON.stringify(result));
    return;
  }
  if (args.phase === 'long-text') {
    // One text, alone in its process: the time and the peak RSS are the text's.
    const text = textOfTokens(encoder, args.tokens!, 1);
    await encoder.encode([{ text: 'warm up' }]);
    const rssBefore = maxRssMb();
    const s = performance.now();
    await encoder.encode([{ text }], { batchSize: 1 });
    result['tokens'] = args.tokens!;
    result['long_text_s'] = round((performance.now() - s) / 1000, 2);
    result['rss_before_mb'] = rssBefore;
    result['peak_rss_mb'] = maxRssMb();
    await encoder.close();
    console.log(JSON.stringify(result));
    return;
  }
  const jpeg = args.photo ? await syntheticPhotoJpeg(...args.photo) : await syntheticPhotoJpeg();
  // Steady state: ONNX Runtime plans and allocates memory for each new input shape on its first
  // run, once per process. One full batch (the bulk shape) and one text run before any clock starts;
  // the first bulk batch's own time is reported apart.
  await encoder.encode([{ text: 'warm up' }]);
  const firstBatchStart = performance.now();
  await encoder.encode(Array.from({ length: args.batchSize }, () => ({ image: jpeg })), { batchSize: args.batchSize });
  const firstBatchMs = performance.now() - firstBatchStart;

  // Bulk images: one call; the encoder batches, preprocessing each batch just before it runs.
  stages.vision = stages.text = 0;
  const cpu0 = process.cpuUsage();
  const bulkStart = performance.now();
  await encoder.encode(Array.from({ length: args.images }, () => ({ image: jpeg })), { batchSize: args.batchSize });
  const bulkS = (performance.now() - bulkStart) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time of every thread of this process (ORT's, the image workers', JavaScript's) against all cores for the whole run.
  result['bulk_thread_idle_fraction'] = round(1 - (cpu.user + cpu.system) / 1e6 / (bulkS * args.threads), 3);
  result['images_per_s'] = round(args.images / bulkS, 3);
  result['vision_ms_per_image'] = round(stages.vision / args.images, 1);
  result['text_ms_per_image'] = round(stages.text / args.images, 1);
  result['queueing_ms_per_image'] = round((bulkS * 1000 - stages.vision - stages.text) / args.images, 1);
  result['bulk_peak_rss_mb'] = maxRssMb();
  result['first_batch_ms_per_image'] = round(firstBatchMs / args.batchSize, 1);
  if (args.phase === 'bulk-only') {
    result['peak_rss_mb'] = maxRssMb();
    await encoder.close();
    console.log(JSON.stringify(result));
    return;
  }

  // One image, batch 1.
  const single: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    await encoder.encode([{ image: jpeg }], { batchSize: 1 });
    single.push(performance.now() - s);
  }
  result['single_image_ms'] = round(median(single), 1);

  // Composed: image + a 16-token text.
  const prompt = textOfTokens(encoder, 16, 3);
  const composedCount = Math.max(4, Math.floor(args.images / 2));
  const cs = performance.now();
  await encoder.encode(Array.from({ length: composedCount }, () => ({ image: jpeg, text: prompt })), { batchSize: args.batchSize });
  result['composed_per_s'] = round(composedCount / ((performance.now() - cs) / 1000), 3);

  // Text queries: 16 tokens, batch 1.
  const queries = Array.from({ length: 8 }, (_, i) => textOfTokens(encoder, 16, i));
  const latencies: number[] = [];
  for (let i = 0; i < 60; i++) {
    const s = performance.now();
    await encoder.encode([{ text: queries[i % queries.length]! }], { batchSize: 1 });
    if (i >= 10) latencies.push(performance.now() - s);
  }
  result['query_p50_ms'] = round(median(latencies), 2);
  result['query_p95_ms'] = round(quantile(latencies, 0.95), 2);

  // Documents: 32 tokens, batched.
  const docs = Array.from({ length: 64 }, (_, i) => ({ text: textOfTokens(encoder, 32, i) }));
  const ds = performance.now();
  await encoder.encode(docs, { batchSize: 32 });
  result['text_docs_per_s'] = round(docs.length / ((performance.now() - ds) / 1000), 1);
  result['peak_rss_mb'] = maxRssMb();
  await encoder.close();
  console.log(JSON.stringify(result));
}

await main();
