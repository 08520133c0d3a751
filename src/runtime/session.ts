/**
 * ONNX Runtime sessions with the settings that make results reproducible: one pinned graph
 * optimisation level (a different level fuses ops and changes bits), sequential execution and
 * an explicit intra-op thread count (results are bitwise equal for any count on one machine).
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

/**
 * Pinned once, here. 'basic' keeps op-by-op semantics (constant folding and redundant-node
 * elimination only): closest to the float64 reference, no measurable speed loss
 * (engine-feasibility.md §1.4, §2).
 */
export const GRAPH_OPTIMIZATION_LEVEL = 'basic' as const;

export const ORT_VERSION: string = (ort.env as { versions?: { common?: string } }).versions?.common ?? 'unknown';

export interface SessionSettings {
  /** ONNX Runtime intra-op threads. Never changes a result. */
  readonly threads: number;
}

/**
 * Every core the process may use. `os.availableParallelism()` exists on every supported Node
 * (≥ 20.9) and honours CPU affinity; `navigator.hardwareConcurrency` does not exist on Node 20,
 * which made every default run single-threaded there.
 */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The pinned options. `sessionConfig` adds ONNX Runtime session config entries (the graph cache
 * uses it to have ORT save its optimised graph).
 */
export function sessionOptions(settings: SessionSettings, sessionConfig: Record<string, string> = {}): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: GRAPH_OPTIMIZATION_LEVEL,
    executionMode: 'sequential',
    intraOpNumThreads: settings.threads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    executionProviders: ['cpu'],
    // Threads spin between the parallel sections of a run (waking a sleeping thread for each of
    // the graph's ~600 kernels cost 3–10 % of bulk, single-image and query time) and stop the
    // moment a run returns, so that between runs they never take a core from image preprocessing
    // or from the JavaScript thread that prepares the next batch.
    extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1', ...sessionConfig } },
  };
}

/** Creates a session from model bytes or an .onnx path (external data next to it). */
export async function createSession(model: Uint8Array | string, settings: SessionSettings): Promise<ort.InferenceSession> {
  const options = sessionOptions(settings);
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

export { ort };
