/**
 * An ONNX Runtime profile of bulk image embedding, in its own process (profiling slows every
 * kernel a little, so its times are not the bench's figures). Runs the vision and text graphs on
 * a batch of images and summarises ORT's own profile: time in GEMM kernels vs the rest, the ten
 * most expensive non-GEMM ops, the time between kernels (when every intra-op thread is idle) and
 * the process's CPU use (how busy the threads were overall). Prints one JSON object.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelSource } from '../src/load/model-files.js';
import { buildTextGraph, buildVisionGraph } from '../src/model/visualized-bge.js';
import { serializeModel } from '../src/onnx/serialize.js';
import { ModelRunner } from '../src/runtime/model-runner.js';
import { ort, sessionOptions } from '../src/runtime/session.js';
import { round } from './stats.js';

interface Args {
  weights: string;
  textModel: string;
  threads: number;
  batchSize: number;
  batches: number;
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** The matrix-product kernels: everything else is overhead to be squeezed. */
const GEMM_OPS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'Conv']);

export interface ProfileSummary {
  kernel_ms: number;
  gemm_ms: number;
  gemm_fraction: number;
  run_ms: number;
  /** Wall time inside runs but outside any kernel. */
  between_kernels_ms: number;
  /** 1 − process CPU time ÷ (wall time × threads) over the profiled runs. */
  thread_idle_fraction: number;
  top_non_gemm: { op: string; ms: number; fraction: number }[];
}

export function summarise(events: readonly ProfileEvent[], cpuMs: number, wallMs: number, threads: number): ProfileSummary {
  const byOp = new Map<string, number>();
  let kernel = 0;
  let run = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') run += e.dur;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    kernel += e.dur;
    byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
  }
  let gemm = 0;
  for (const [op, us] of byOp) if (GEMM_OPS.has(op)) gemm += us;
  const top = [...byOp].filter(([op]) => !GEMM_OPS.has(op)).sort((a, b) => b[1] - a[1]).slice(0, 10);
  return {
    kernel_ms: round(kernel / 1000, 1),
    gemm_ms: round(gemm / 1000, 1),
    gemm_fraction: round(gemm / kernel, 3),
    run_ms: round(run / 1000, 1),
    between_kernels_ms: round((run - kernel) / 1000, 1),
    thread_idle_fraction: round(1 - cpuMs / (wallMs * threads), 3),
    top_non_gemm: top.map(([op, us]) => ({ op, ms: round(us / 1000, 1), fraction: round(us / kernel, 3) })),
  };
}

async function main(args: Args): Promise<void> {
  const { weights, config } = openModelSource({ weights: args.weights, textModel: args.textModel });
  const dir = mkdtempSync(join(tmpdir(), 'vbge-profile-'));
  const open = async (bytes: Uint8Array, name: string): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(bytes, { ...sessionOptions({ threads: args.threads }), enableProfiling: true, profileFilePrefix: join(dir, name) });
  const runner = new ModelRunner(config, await open(serializeModel(buildVisionGraph(weights, config)), 'vision'), await open(serializeModel(buildTextGraph(weights, config)), 'text'));
  const pixels = Array.from({ length: args.batchSize }, (_, i) => Float32Array.from({ length: 3 * 224 * 224 }, (_, j) => Math.sin(i + j * 0.001)));
  // Image-only inputs: the text part is [CLS, SEP].
  const ids = config.text.modelType === 'bert' ? [101, 102] : [0, 2];
  const embed = async (): Promise<void> => {
    const tokens = await runner.runVision(pixels);
    await runner.runText(tokens.map((imageTokens) => ({ ids, imageTokens })));
  };
  await embed(); // warm-up: first runs allocate; its events are dropped below
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < args.batches; i++) await embed();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await runner.release();
  const events = readEvents(dir);
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(summarise(events, (cpu.user + cpu.system) / 1000, wallMs, args.threads)));
}

/** The events of every session's profile (written on release), without each session's first run. */
function readEvents(dir: string): ProfileEvent[] {
  const events: ProfileEvent[] = [];
  for (const f of readdirSync(dir)) {
    const all = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProfileEvent[];
    const runs = all.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const warmEnd = runs.length > 0 ? runs[0]!.ts + runs[0]!.dur : 0;
    events.push(...all.filter((e) => e.ts >= warmEnd));
  }
  return events;
}

if (process.argv[2]) await main(JSON.parse(process.argv[2]) as Args);
