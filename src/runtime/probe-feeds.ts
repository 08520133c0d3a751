/**
 * Probe inputs for the graph cache's check of an optimised graph, and the hash of a session's
 * outputs on them: shared by the loading process and the check process (graph-probe.ts), which
 * must compute the hash the same way.
 */
import { createHash } from 'node:crypto';
import type * as Ort from 'onnxruntime-node';
import { ort } from './session.js';

export const GRAPH_NAMES = ['vision', 'text'] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

/** One input tensor as plain JSON, so that it can be sent to the check process. */
export interface ProbeTensor {
  readonly type: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** Inputs per graph, by input name. */
export type ProbeFeeds = Record<GraphName, Record<string, ProbeTensor>>;

export function toOrtFeeds(feeds: Record<string, ProbeTensor>): Record<string, Ort.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, f]) => [
      name,
      f.type === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(f.data, (v) => BigInt(v)), [...f.dims])
        : new ort.Tensor('float32', Float32Array.from(f.data), [...f.dims]),
    ]),
  );
}

/** sha256 over every output's float32 bytes, in the session's output order. */
export async function outputHash(session: Ort.InferenceSession, feeds: Record<string, ProbeTensor>): Promise<string> {
  const out = await session.run(toOrtFeeds(feeds));
  const h = createHash('sha256');
  for (const name of session.outputNames) {
    const data = out[name]!.data as Float32Array;
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}
