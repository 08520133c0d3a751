/**
 * A/B of session settings on bulk base images, interleaved in one process so that every variant
 * sees the same machine: intra-op thread spinning on/off, batch size. Both spin settings stop
 * spinning when a run returns (`session.force_spinning_stop`), so neither takes a core from the
 * variant that runs next. Graphs are built in memory
 * from the checkpoint; each round runs every variant once on the same pixels. Prints one JSON
 * object: median images/s per variant. `npx tsx bench/ab.ts '{"weights": …, "textModel": …}'`.
 */
import { openModelSource } from '../src/load/model-files.js';
import { buildTextGraph, buildVisionGraph } from '../src/model/visualized-bge.js';
import { serializeModel } from '../src/onnx/serialize.js';
import { ModelRunner } from '../src/runtime/model-runner.js';
import { ort, sessionOptions } from '../src/runtime/session.js';
import { median, round } from './stats.js';

interface Args {
  weights: string;
  textModel: string;
  threads: number;
  rounds: number;
  images: number;
}

interface Variant {
  name: string;
  spinning: boolean;
  batchSize: number;
}

const VARIANTS: Variant[] = [
  { name: 'spin, batch 8 (default)', spinning: true, batchSize: 8 },
  { name: 'no-spin, batch 8', spinning: false, batchSize: 8 },
  { name: 'spin, batch 16', spinning: true, batchSize: 16 },
  { name: 'spin, batch 4', spinning: true, batchSize: 4 },
];

async function main(args: Args): Promise<void> {
  const { weights, config } = openModelSource({ weights: args.weights, textModel: args.textModel });
  const vision = serializeModel(buildVisionGraph(weights, config));
  const text = serializeModel(buildTextGraph(weights, config));
  const runners = new Map<boolean, ModelRunner>();
  for (const spinning of [false, true]) {
    const base = sessionOptions({ threads: args.threads });
    const options = { ...base, extra: { session: { ...(base.extra as { session?: object } | undefined)?.session, intra_op: { allow_spinning: spinning ? '1' : '0' } } } };
    runners.set(spinning, new ModelRunner(config, await ort.InferenceSession.create(vision, options), await ort.InferenceSession.create(text, options)));
  }
  const pixels = Array.from({ length: args.images }, (_, i) => Float32Array.from({ length: 3 * 224 * 224 }, (_, j) => Math.sin(i + j * 0.001)));
  const ids = config.text.modelType === 'bert' ? [101, 102] : [0, 2];
  const bulk = async (v: Variant): Promise<number> => {
    const runner = runners.get(v.spinning)!;
    const t0 = performance.now();
    for (let i = 0; i < pixels.length; i += v.batchSize) {
      const tokens = await runner.runVision(pixels.slice(i, i + v.batchSize));
      await runner.runText(tokens.map((imageTokens) => ({ ids, imageTokens })));
    }
    return pixels.length / ((performance.now() - t0) / 1000);
  };
  for (const v of VARIANTS) await bulk(v); // warm-up: every shape allocated once
  const rates = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  for (let r = 0; r < args.rounds; r++) for (const v of VARIANTS) rates.get(v.name)!.push(await bulk(v));
  for (const runner of runners.values()) await runner.release();
  console.log(JSON.stringify(Object.fromEntries([...rates].map(([name, rs]) => [name, { images_per_s: round(median(rs), 3), runs: rs.map((x) => round(x, 2)) }]))));
}

if (process.argv[2]) await main({ threads: 2, rounds: 3, images: 16, ...(JSON.parse(process.argv[2]) as Partial<Args>) } as Args);
