/**
 * The EVA02 vision transformer as Visualized BGE uses it (spec §3): patch embedding, CLS and
 * learned positions, pre-norm blocks with 2-D RoPE, sub-LN attention and SwiGLU. Inference only:
 * PatchDropout, DropPath and dropout do not exist here. The output is the residual stream after
 * the last block — no final norm, no head (spec §0.1).
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import type { GraphBuilder, Value } from '../onnx/graph.js';
import { type EvaVisionConfig, gridSize, mlpHidden, numHeads, numPatches } from './eva-config.js';
import { attend, batchDim, exactQueryScale, headsShape, layerNorm, linear, mergeHeads, param, silu, splitHeads, toRows } from './layers.js';

/**
 * The 2-D rotary tables, from the checkpoint (fp16-rounded upstream; never recomputed), extended
 * by a first row for the EVA CLS token that leaves it unrotated (cos 1, sin 0: exact), so RoPE
 * applies to all 1+N tokens without slicing the CLS token out.
 */
interface Rope {
  /**
   * The query's tables: cos, and sin with the rotate_half signs folded in (−sin at even lanes,
   * +sin at odd lanes); with attention's 1/√d folded in too when `queryScaled`.
   */
  query: { cos: Value; signedSin: Value };
  /**
   * Whether 1/√d is folded into the query's tables (when exactQueryScale allows it:
   * x·(cos/8) + swap(x)·(sin/8) is (x·cos + swap(x)·sin)/8 bit for bit), one pass over q less.
   */
  queryScaled: boolean;
  /** The unscaled tables transposed, [d, 1+N], for keys kept as [B, H, d, 1+N]. */
  cosT: Value;
  signedSinT: Value;
  /**
   * rotate_half's lane swap (x0, x1, x2, x3, …) → (x1, x0, x3, x2, …) as a 0/1 permutation
   * matrix: a MatMul by it is exact (one nonzero product per output, the rest adds zeros) and far
   * cheaper than a Gather on the last axis.
   */
  pairSwap: Value;
}

function ropeTables(g: GraphBuilder, w: WeightMap, cfg: EvaVisionConfig): Rope {
  const n = numPatches(cfg);
  const d = cfg.headWidth;
  const cos = w.get('freqs_cos', [n, d]);
  const sin = w.get('freqs_sin', [n, d]);
  const cosRows = new Float32Array((n + 1) * d);
  cosRows.fill(1, 0, d);
  cosRows.set(cos.data, d);
  // rotate_half(x)·sin = swap(x)·(±sin); negation is exact, so this equals upstream bit for bit.
  const signed = new Float32Array((n + 1) * d);
  for (let i = 0; i < sin.data.length; i++) signed[d + i] = i % 2 === 0 ? -sin.data[i]! : sin.data[i]!;
  const swap = new Float32Array(d * d);
  for (let i = 0; i < d; i++) swap[i * d + (i ^ 1)] = 1;
  const transpose = (t: Float32Array): Float32Array => {
    const out = new Float32Array(t.length);
    for (let r = 0; r <= n; r++) for (let c = 0; c < d; c++) out[c * (n + 1) + r] = t[r * d + c]!;
    return out;
  };
  const scale = exactQueryScale(d);
  const queryScaled = scale !== undefined;
  const forQuery = (t: Float32Array): Float32Array => (scale === undefined ? t : t.map((v) => v * scale));
  const suffix = queryScaled ? '*scale' : '';
  return {
    query: {
      cos: g.initializer(`${w.key('freqs_cos')}:with_cls${suffix}`, forQuery(cosRows), [n + 1, d]),
      signedSin: g.initializer(`${w.key('freqs_sin')}:signed_with_cls${suffix}`, forQuery(signed), [n + 1, d]),
    },
    queryScaled,
    cosT: g.initializer(`${w.key('freqs_cos')}:with_cls^T`, transpose(cosRows), [d, n + 1]),
    signedSinT: g.initializer(`${w.key('freqs_sin')}:signed_with_cls^T`, transpose(signed), [d, n + 1]),
    pairSwap: g.initializer('rope_pair_swap', swap, [d, d]),
  };
}

/** Conv2d(3, W, P, stride P) → flatten → [B, N, W]; patches in row-major order. */
function patchEmbed(g: GraphBuilder, w: WeightMap, pixels: Value, cfg: EvaVisionConfig): Value {
  const p = cfg.patchSize;
  const conv = g.node(
    'Conv',
    [pixels, param(g, w, 'proj.weight', [cfg.width, 3, p, p]), param(g, w, 'proj.bias', [cfg.width])],
    { kernel_shape: [p, p], strides: [p, p] },
    'patch_embed',
  );
  const flat = g.node('Reshape', [conv, g.i64([0, cfg.width, -1])]);
  return g.node('Transpose', [flat], { perm: [0, 2, 1] });
}

/** concat(CLS, patches) + pos_embed → [B, 1+N, W]. */
function addClsAndPositions(g: GraphBuilder, w: WeightMap, batch: Value, patches: Value, cfg: EvaVisionConfig): Value {
  const clsShape = g.node('Concat', [batch, g.i64([1, cfg.width])], { axis: 0 });
  const cls = g.node('Expand', [param(g, w, 'cls_token', [1, 1, cfg.width]), clsShape]);
  const tokens = g.node('Concat', [cls, patches], { axis: 1 });
  return g.node('Add', [tokens, param(g, w, 'pos_embed', [1, numPatches(cfg) + 1, cfg.width])], {}, 'block_input');
}

/** RoPE on q ([B, H, 1+N, d]): x·cos + swap(x)·signedSin; the CLS row is the identity (or the scale). */
function applyRope(g: GraphBuilder, x: Value, rope: Rope): Value {
  const swapped = g.node('MatMul', [x, rope.pairSwap]);
  return g.node('Add', [g.node('Mul', [x, rope.query.cos]), g.node('Mul', [swapped, rope.query.signedSin])]);
}

/** The same rotation on keys held transposed, [B, H, d, 1+N] (the swap matrix is symmetric). */
function applyRopeTransposed(g: GraphBuilder, xT: Value, rope: Rope): Value {
  const swapped = g.node('MatMul', [rope.pairSwap, xT]);
  return g.node('Add', [g.node('Mul', [xT, rope.cosT]), g.node('Mul', [swapped, rope.signedSinT])]);
}

/** What every block of one tower shares. */
interface TowerContext {
  readonly g: GraphBuilder;
  readonly cfg: EvaVisionConfig;
  readonly rope: Rope;
  /** [B, −1, heads, d]: the shape token rows are viewed as before splitting heads. */
  readonly heads: Value;
}

/** Sub-LN attention: q/v biases (no k bias), RoPE, scaled dot product, inner LayerNorm, proj. */
function attention(ctx: TowerContext, w: WeightMap, x: Value): Value {
  const { g, cfg, rope, heads } = ctx;
  const width = cfg.width;
  const dims = { in: width, out: width };
  const q = linear(g, w, x, dims, { weight: 'q_proj.weight', bias: 'q_bias' });
  const k = linear(g, w, x, dims, { weight: 'k_proj.weight', bias: null });
  const v = linear(g, w, x, dims, { weight: 'v_proj.weight', bias: 'v_bias' });
  const khT = applyRopeTransposed(g, splitHeads(g, k, heads, true), rope);
  const vh = splitHeads(g, v, heads);
  const qh = applyRope(g, splitHeads(g, q, heads), rope);
  const scaled = rope.queryScaled ? qh : g.node('Mul', [qh, g.f32(cfg.headWidth ** -0.5)]);
  const scores = g.node('MatMul', [scaled, khT]);
  const merged = mergeHeads(g, attend(g, scores, vh), width);
  const normed = layerNorm(g, w.scope('inner_attn_ln'), merged, width, cfg.layerNormEps);
  return linear(g, w.scope('proj'), normed, dims);
}

/** SwiGLU: w3(ffn_ln(silu(w1·x) ⊙ w2·x)). */
function swiGlu(ctx: TowerContext, w: WeightMap, x: Value): Value {
  const { g, cfg } = ctx;
  const hidden = mlpHidden(cfg);
  const up = { in: cfg.width, out: hidden };
  const gate = silu(g, linear(g, w.scope('w1'), x, up));
  const value = linear(g, w.scope('w2'), x, up);
  const normed = layerNorm(g, w.scope('ffn_ln'), g.node('Mul', [gate, value]), hidden, cfg.layerNormEps);
  return linear(g, w.scope('w3'), normed, { in: hidden, out: cfg.width });
}

/** Pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)); no layer scale. */
function block(ctx: TowerContext, w: WeightMap, x: Value): Value {
  const { g, cfg } = ctx;
  const a = attention(ctx, w.scope('attn'), layerNorm(g, w.scope('norm1'), x, cfg.width, cfg.layerNormEps));
  const h = g.node('Add', [x, a]);
  const m = swiGlu(ctx, w.scope('mlp'), layerNorm(g, w.scope('norm2'), h, cfg.width, cfg.layerNormEps));
  return g.node('Add', [h, m]);
}

/**
 * pixels [B, 3, 224, 224] → all 1+N tokens after the last block, [B, 1+N, W]. Inside, the
 * token rows are kept 2-D ([B·(1+N), W]) so that each linear layer is one fused Gemm.
 * `w` is scoped at the vision tower (`model_visual.visual`).
 */
export function evaVisionTower(g: GraphBuilder, w: WeightMap, pixels: Value, cfg: EvaVisionConfig): Value {
  if (gridSize(cfg) * cfg.patchSize !== cfg.imageSize) throw new Error('image size must be a multiple of the patch size');
  const batch = batchDim(g, pixels);
  const patches = g.tap('vision.patch_embed', patchEmbed(g, w.scope('patch_embed'), pixels, cfg));
  let x = toRows(g, g.tap('vision.block_input', addClsAndPositions(g, w, batch, patches, cfg)), cfg.width);
  const ctx: TowerContext = { g, cfg, rope: ropeTables(g, w.scope('rope'), cfg), heads: headsShape(g, batch, numHeads(cfg), cfg.headWidth) };
  for (let i = 0; i < cfg.layers; i++) x = g.tap(`vision.block${i}`, block(ctx, w.scope(`blocks.${i}`), x));
  const tokens = g.node('Reshape', [x, g.i64([-1, numPatches(cfg) + 1, cfg.width])]);
  return g.tap('vision.encode_image_tokens', tokens);
}
