/**
 * Building blocks shared by the architectures: each adds nodes to a graph, reading weights by
 * the checkpoint's own names from a scoped WeightMap.
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import { type GraphBuilder, ONNX_TYPE, type Value } from '../onnx/graph.js';

/** float16's most negative finite value: upstream's additive mask for padded keys (spec §4.3). */
export const FP16_MIN = -65504;

/** Row-major (rows × cols) → (cols × rows). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return out;
}

/** A weight tensor as a graph initializer named by its checkpoint key. */
export function param(g: GraphBuilder, w: WeightMap, name: string, shape?: readonly number[]): Value {
  const t = w.get(name, shape);
  return g.initializer(w.key(name), t.data, t.shape);
}

/**
 * `y = x·Wᵀ + b` for a torch Linear whose weight is stored (out, in). The weight is transposed
 * once at build time so that the graph runs a plain MatMul.
 */
export function linear(
  g: GraphBuilder,
  w: WeightMap,
  x: Value,
  dims: { in: number; out: number },
  names: { weight?: string; bias?: string | null } = {},
): Value {
  const weightName = names.weight ?? 'weight';
  const biasName = names.bias === undefined ? 'bias' : names.bias;
  const weight = w.get(weightName, [dims.out, dims.in]);
  const wt = g.initializer(`${w.key(weightName)}^T`, transpose2d(weight.data, dims.out, dims.in), [dims.in, dims.out]);
  const y = g.node('MatMul', [x, wt], {}, w.key(weightName).replace(/\.weight$/, ''));
  return biasName === null ? y : g.node('Add', [y, param(g, w, biasName, [dims.out])]);
}

/** LayerNorm over the last axis with the module's weight and bias. */
export function layerNorm(g: GraphBuilder, w: WeightMap, x: Value, width: number, eps: number): Value {
  return g.node(
    'LayerNormalization',
    [x, param(g, w, 'weight', [width]), param(g, w, 'bias', [width])],
    { axis: -1, epsilon: { float: eps } },
    w.key('ln'),
  );
}

/**
 * Activations between attention blocks are kept 2-D, [B·S, W]: a MatMul on a 2-D input with a
 * constant weight and a bias Add is what ONNX Runtime fuses into one Gemm at the pinned level.
 */
export function toRows(g: GraphBuilder, x: Value, width: number): Value {
  return g.node('Reshape', [x, g.i64([-1, width])]);
}

/** The int64 [1] tensor holding the batch size of `input` (its first dimension). */
export function batchDim(g: GraphBuilder, input: Value): Value {
  return g.node('Slice', [g.node('Shape', [input]), g.i64([0]), g.i64([1])], {}, 'batch_dim');
}

/** The shape [B, −1, heads, d] that rows are viewed as before splitting heads; build it once per graph. */
export function headsShape(g: GraphBuilder, batch: Value, heads: number, headDim: number): Value {
  return g.node('Concat', [batch, g.i64([-1, heads, headDim])], { axis: 0 }, 'heads_shape');
}

/**
 * Rows [B·S, heads·d] → [B, heads, S, d] (queries, values), or with `transposed` → [B, heads, d, S]
 * (keys, ready for q·kᵀ without a second transpose).
 */
export function splitHeads(g: GraphBuilder, x: Value, shape: Value, transposed = false): Value {
  const r = g.node('Reshape', [x, shape]);
  return g.node('Transpose', [r], { perm: transposed ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/** [B, heads, S, d] → rows [B·S, heads·d]. */
export function mergeHeads(g: GraphBuilder, x: Value, width: number): Value {
  const t = g.node('Transpose', [x], { perm: [0, 2, 1, 3] });
  return g.node('Reshape', [t, g.i64([-1, width])]);
}

/**
 * Attention's 1/√d when it is a power of two (d = 64: 1/8; d = 16: 1/4), else undefined. Scaling
 * by a power of two commutes with rounding, so applying it to q (or to q's RoPE tables) before
 * q·kᵀ gives every partial sum exactly scaled: the product equals (q·kᵀ)/√d bit for bit (barring
 * values below 2⁻¹²⁶, which no activation reaches), without a pass over the scores.
 */
export function exactQueryScale(d: number): number | undefined {
  const root = Math.sqrt(d);
  return Number.isInteger(Math.log2(root)) ? 1 / root : undefined;
}

/** softmax(scores)·v over the last axis. */
export function attend(g: GraphBuilder, scores: Value, v: Value): Value {
  const probs = g.node('Softmax', [scores], { axis: -1 });
  return g.node('MatMul', [probs, v]);
}

/**
 * `rowsFn(q)` for q [B, H, S, d], computed `rows` query rows at a time by an ONNX Loop and
 * concatenated, so that only [B, H, ≤ rows + 1, S] attention scores exist at once instead of
 * [B, H, S, S]. Every row's softmax and weighted sum are the same operations on the same data,
 * so the result is bitwise the one of `rowsFn(q)` as long as each kernel computes a row the same
 * way whatever the row count. ONNX Runtime's are row-invariant except MLAS's single-row GEMM (a
 * separate kernel for M = 1), so no block is ever one row: a last block of one row joins the one
 * before (S = k·rows + 1 runs k blocks, the last rows + 1 long), and S ≤ rows + 1 is one block.
 * `rowsFn` adds its nodes to the loop body, which reads the outer graph's values by name.
 */
export function inQueryBlocks(g: GraphBuilder, q: Value, rows: number, rowsFn: (body: GraphBuilder, qRows: Value) => Value): Value {
  const length = g.node('Slice', [g.node('Shape', [q]), g.i64([2]), g.i64([3])]);
  // max(1, ⌈(S − 1) / rows⌉), as ⌊(S − 2) / rows⌋ + 1 (ONNX integer Div truncates toward zero).
  const trips = g.node('Max', [g.node('Add', [g.node('Div', [g.node('Sub', [length, g.i64([2])]), g.i64([rows])]), g.i64([1])]), g.i64([1])], {}, 'query_blocks');
  const lastTrip = g.node('Sub', [trips, g.i64([1])]);
  const none = g.node('Slice', [q, g.i64([0]), g.i64([0]), g.i64([2])]);
  const body = g.subgraph('query_block');
  const iteration = body.input(`${body.name}.iteration`, 'int64', []);
  const going = body.input(`${body.name}.cond`, 'bool', []);
  const done = body.input(`${body.name}.done`, 'float32', null);
  const start = body.node('Mul', [iteration, g.i64([rows])]);
  // The last block runs to the end: Slice clamps an end past S.
  const toEnd = body.node('Mul', [body.node('Cast', [body.node('Equal', [iteration, lastTrip])], { to: ONNX_TYPE.int64 }), length]);
  const end = body.node('Add', [body.node('Add', [start, g.i64([rows])]), toEnd]);
  const qRows = body.node('Slice', [q, start, end, g.i64([2])]);
  // A loop-carried value may change shape between iterations; scan outputs may not, and the last block is longer.
  body.output(body.node('Identity', [going]), 'bool', []);
  body.output(body.node('Concat', [done, rowsFn(body, qRows)], { axis: 2 }), 'float32', null);
  return g.node('Loop', [trips, g.bool(true), none], { body: { graph: body } }, 'attention_rows');
}

/** Exact (erf) GELU as torch computes it: x · 0.5 · (1 + erf(x / √2)). */
export function geluErf(g: GraphBuilder, x: Value): Value {
  const e = g.node('Erf', [g.node('Mul', [x, g.f32(Math.SQRT1_2)])]);
  const half = g.node('Mul', [x, g.f32(0.5)]);
  return g.node('Mul', [half, g.node('Add', [e, g.f32(1)])]);
}

/** SiLU as torch's CPU kernel computes it: x / (1 + exp(−x)). */
export function silu(g: GraphBuilder, x: Value): Value {
  const denom = g.node('Add', [g.node('Exp', [g.node('Neg', [x])]), g.f32(1)]);
  return g.node('Div', [x, denom]);
}
