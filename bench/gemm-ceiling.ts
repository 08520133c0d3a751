/**
 * The GEMM ceiling: the time the model's inputs would take on this machine if every matrix product
 * ran at the rate ONNX Runtime's kernel reaches on that shape alone and everything between the
 * products (LayerNorm, softmax, GELU/SwiGLU, RoPE, transposes, image preprocessing) cost nothing.
 * Read beside the measured figures: the model's fraction of the ceiling is what the graph leaves
 * on the table; the ceiling's own fraction of the FMA peak is the most any graph built on these
 * kernels can show. Optimistic by construction: alone, a product finds its operands in cache.
 * The patch embedding (a strided Conv in the graph) counts as the product it computes.
 */
import { VISUALIZED_DIMS, type VisualizedVariant } from '../test/helpers/random-checkpoint.js';
import { batchedMatMulRate, gemmRate } from './gemm.js';
import { round } from './stats.js';

/** Attention head width of both published models (spec §2). */
const HEAD_DIM = 64;
/** Query rows of the last text layer per item: CLS, plus one (MLAS runs a one-row product on another kernel). */
const LAST_LAYER_ROWS = 2;

/** `count` products [batch × m × k] · [batch × k × n]; batch 0 = a weight product (constant right operand). */
export interface Product {
  readonly what: string;
  readonly count: number;
  readonly batch: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

const weight = (what: string, count: number, m: number, k: number, n: number): Product => ({ what, count, batch: 0, m, k, n });
/** q·kᵀ and scores·v of `count` layers: `rows` query rows against `keys` keys, for every head of `items` items. */
const attention = (what: string, count: number, items: number, heads: number, rows: number, keys: number): Product[] => [
  { what: `${what} q·kᵀ`, count, batch: items * heads, m: rows, k: HEAD_DIM, n: keys },
  { what: `${what} scores·v`, count, batch: items * heads, m: rows, k: keys, n: HEAD_DIM },
];

/** Every matrix product of the vision graph for `b` images (the tower, then the projection into text space). */
export function visionProducts(variant: VisualizedVariant, b: number): Product[] {
  const d = VISUALIZED_DIMS[variant];
  const w = d.width;
  const patches = d.grid * d.grid;
  const tokens = patches + 1; // CLS + patches
  const layers = d.visionDepth;
  return [
    weight('patch embedding', 1, b * patches, 3 * d.patch * d.patch, w),
    weight('vision q, k, v, out', 4 * layers, b * tokens, w, w),
    weight('vision SwiGLU in', 2 * layers, b * tokens, w, d.swigluHidden),
    weight('vision SwiGLU out', layers, b * tokens, d.swigluHidden, w),
    ...attention('vision', layers, b, w / HEAD_DIM, tokens, tokens),
    weight('visual projection', 1, b * patches, w, w),
  ];
}

/**
 * The query blocks attention runs in when the graph computes it `blockRows` rows at a time (the
 * text graph's Loop for long texts, src/model/layers.ts inQueryBlocks): that many rows per block,
 * the last block running to the end; [[rows, blocks]].
 */
export function queryBlocks(tokens: number, blockRows: number | undefined): [number, number][] {
  if (blockRows === undefined || tokens <= blockRows + 1) return [[tokens, 1]];
  const trips = Math.floor((tokens - 2) / blockRows) + 1;
  const lastRows = tokens - (trips - 1) * blockRows;
  return lastRows === blockRows ? [[blockRows, trips]] : [[blockRows, trips - 1], [lastRows, 1]];
}

/**
 * Every matrix product of the text graph for `b` items of `tokens` tokens each (an image's tokens
 * included); the last layer computes only the first rows. `blockRows`: attention in query blocks
 * of that many rows, as the graph runs a model whose longest text exceeds two blocks (bge-m3).
 */
export function textProducts(variant: VisualizedVariant, b: number, tokens: number, blockRows?: number): Product[] {
  const d = VISUALIZED_DIMS[variant];
  const w = d.width;
  const heads = w / HEAD_DIM;
  const full = d.textLayers - 1;
  const rows = b * tokens;
  const last = b * LAST_LAYER_ROWS;
  return [
    weight('text q, k, v, out', 4 * full + 2, rows, w, w),
    weight('text FFN in', full, rows, w, d.textIntermediate),
    weight('text FFN out', full, rows, d.textIntermediate, w),
    ...queryBlocks(tokens, blockRows).flatMap(([blockRowCount, blocks]) => attention('text', full * blocks, b, heads, blockRowCount, tokens)),
    weight('last text layer q, out', 2, last, w, w),
    ...attention('last text layer', 1, b, heads, LAST_LAYER_ROWS, tokens),
    weight('last text layer FFN in', 1, last, w, d.textIntermediate),
    weight('last text layer FFN out', 1, last, d.textIntermediate, w),
  ];
}

/** Both graphs for a batch of `b` images (image-only inputs: CLS, the image's tokens, SEP). */
export function imageProducts(variant: VisualizedVariant, b: number): Product[] {
  const d = VISUALIZED_DIMS[variant];
  return [...visionProducts(variant, b), ...textProducts(variant, b, d.grid * d.grid + 2)];
}

export interface GemmCeiling {
  /** Milliseconds per item if only the products took time, each at its measured rate. */
  readonly ms_per_item: number;
  /** GFLOP of the products per item (what the graphs compute, the last text layer's saving included). */
  readonly product_gflop_per_item: number;
  /** Milliseconds per item by group of products. */
  readonly ms_per_item_by_group: Record<string, number>;
  /** Measured rate of each distinct shape, GFLOP/s. */
  readonly rates: Record<string, number>;
}

/**
 * The time `products` (for `items` items) take at the rates each shape reaches alone; `rates`
 * holds shapes measured before and gains the new ones, so that several ceilings of one run share them.
 */
export async function gemmCeiling(products: readonly Product[], items: number, threads: number, rates: Map<string, number>, seconds = 1): Promise<GemmCeiling> {
  const key = (p: Product): string => (p.batch === 0 ? `${p.m}x${p.k}x${p.n}` : `${p.batch}×${p.m}x${p.k}x${p.n}`);
  for (const p of products) {
    if (rates.has(key(p))) continue;
    const r = p.batch === 0 ? await gemmRate(p.k, p.n, p.m, threads, seconds) : await batchedMatMulRate(p.batch, p.m, p.k, p.n, threads, seconds);
    rates.set(key(p), r.gflops);
  }
  let total = 0;
  let flops = 0;
  const byGroup: Record<string, number> = {};
  for (const p of products) {
    const f = p.count * 2 * Math.max(1, p.batch) * p.m * p.k * p.n;
    const s = f / 1e9 / rates.get(key(p))!;
    total += s;
    flops += f;
    byGroup[p.what] = round((byGroup[p.what] ?? 0) + (1000 * s) / items, 2);
  }
  return {
    ms_per_item: round((1000 * total) / items, 2),
    product_gflop_per_item: round(flops / items / 1e9, 2),
    ms_per_item_by_group: byGroup,
    rates: Object.fromEntries(products.map((p) => [key(p), round(rates.get(key(p))!, 1)])),
  };
}
