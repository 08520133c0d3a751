/**
 * This machine's GEMM rate through ONNX Runtime on the model's own shapes: X[M, K] · W[K, N] + b
 * with a constant W (the Gemm the model's linear layers become), M = 197 (one image's tokens) or
 * 1576 (a batch of 8). Only the first row of the product leaves the session, so the figure is the
 * kernel's, not the cost of handing a large output to JavaScript.
 */
import { GraphBuilder } from '../src/onnx/graph.js';
import { serializeModel } from '../src/onnx/serialize.js';
import { createSession, ort } from '../src/runtime/session.js';
import { median } from './stats.js';

export interface GemmRate {
  shape: string;
  gflops: number;
}

export async function gemmRate(k: number, n: number, m = 197, threads = 2, seconds = 1.5): Promise<GemmRate> {
  const g = new GraphBuilder('gemm');
  const x = g.input('x', 'float32', [m, k]);
  const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i) * 0.05);
  const y = g.node('Add', [g.node('MatMul', [x, g.initializer('w', w, [k, n])]), g.initializer('b', new Float32Array(n).fill(0.01), [n])]);
  g.output(g.node('Slice', [y, g.i64([0]), g.i64([1])]), 'float32', [1, n], 'y');
  const input = { x: new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => Math.cos(i)), [m, k]) };
  return { shape: `${m}x${k}x${n}`, gflops: await timedRate(serializeModel(g), input, 2 * m * k * n, threads, seconds) };
}

/**
 * The same for `batch` products of two activations, A[batch, m, k] · B[batch, k, n], as attention
 * computes q·kᵀ and its weighted sum of v (no constant operand, so nothing is prepacked).
 */
export async function batchedMatMulRate(batch: number, m: number, k: number, n: number, threads = 2, seconds = 1.5): Promise<GemmRate> {
  const g = new GraphBuilder('batched-matmul');
  const a = g.input('a', 'float32', [batch, m, k]);
  const b = g.input('b', 'float32', [batch, k, n]);
  const y = g.node('MatMul', [a, b]);
  g.output(g.node('Slice', [y, g.i64([0]), g.i64([1])]), 'float32', [1, m, n], 'y');
  const inputs = {
    a: new ort.Tensor('float32', Float32Array.from({ length: batch * m * k }, (_, i) => Math.cos(i)), [batch, m, k]),
    b: new ort.Tensor('float32', Float32Array.from({ length: batch * k * n }, (_, i) => Math.sin(i) * 0.05), [batch, k, n]),
  };
  return { shape: `${batch}×${m}x${k}x${n}`, gflops: await timedRate(serializeModel(g), inputs, 2 * batch * m * k * n, threads, seconds) };
}

/** Median GFLOP/s of repeated runs of a one-product graph over `seconds`, after a warm-up. */
async function timedRate(model: Uint8Array, inputs: Record<string, ort.Tensor>, flops: number, threads: number, seconds: number): Promise<number> {
  const session = await createSession(model, { threads });
  for (let i = 0; i < 5; i++) await session.run(inputs);
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const reps = 8;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await session.run(inputs);
    const dt = (performance.now() - t0) / reps / 1000;
    rates.push(flops / dt / 1e9);
  }
  await session.release();
  return median(rates);
}
