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
  const session = await createSession(serializeModel(g), { threads });
  const input = { x: new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => Math.cos(i)), [m, k]) };
  for (let i = 0; i < 5; i++) await session.run(input);
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const reps = 8;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await session.run(input);
    const dt = (performance.now() - t0) / reps / 1000;
    rates.push((2 * m * k * n) / dt / 1e9);
  }
  await session.release();
  return { shape: `${m}x${k}x${n}`, gflops: median(rates) };
}
