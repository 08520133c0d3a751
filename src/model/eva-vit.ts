/**
 * The EVA02 vision transformer as Visualized BGE uses it (spec §3): patch embedding, CLS and
 * learned positions, pre-norm blocks with 2-D RoPE, sub-LN attention and SwiGLU. Inference only:
 * PatchDropout, DropPath and dropout do not exist here. The output is the residual stream after
 * the last block — no final norm, no head (spec §0.1).
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import type { GraphBuilder, Value } from '../onnx/graph.js';
import { type EvaVisionConfig, gridSize, mlpHidden, numHeads, numPatches } from './eva-config.js';
import { attend, layerNorm, linear, mergeHeads, param, splitHeads, silu } from './layers.js';

/** The 2-D rotary tables, from the checkpoint (fp16-rounded upstream; never recomputed). */
interface Rope {
  cos: Value;
  /** sin with the rotate_half signs folded in: −sin at even lanes, +sin at odd lanes. */
  signedSin: Value;
  /** Lane permutation of rotate_half: (x0, x1, x2, x3, …) → (x1, x0, x3, x2, …). */
  pairSwap: Value;
}

function ropeTables(g: GraphBuilder, w: WeightMap, cfg: EvaVisionConfig): Rope {
  const n = numPatches(cfg);
  const d = cfg.headWidth;
  const cos = w.get('freqs_cos', [n, d]);
  const sin = w.get('freqs_sin', [n, d]);
  // rotate_half(x)·sin = swap(x)·(±sin); negation is exact, so this equals upstream bit for bit.
  const signed = new Float32Array(sin.data.length);
  for (let i = 0; i < signed.length; i++) signed[i] = i % 2 === 0 ? -sin.data[i]! : sin.data[i]!;
  const swap = new BigInt64Array(d);
  for (let i = 0; i < d; i++) swap[i] = BigInt(i ^ 1);
  return {
    cos: g.initializer(w.key('freqs_cos'), cos.data, [n, d]),
    signedSin: g.initializer(`${w.key('freqs_sin')}:signed`, signed, [n, d]),
    pairSwap: g.initializer('rope_pair_swap', swap, [d]),
  };
}

/** Conv2d(3, W, P, stride P) → flatten → [B, N, W]; patches in row-major order. */
function patchEmbed(g: GraphBuilder, w: WeightMap, pixels: Value, cfg: EvaVisionConfig): Value {
  const p = cfg.patchSize;
  const conv = g.op(
    'Conv',
    [pixels, param(g, w, 'proj.weight', [cfg.width, 3, p, p]), param(g, w, 'proj.bias', [cfg.width])],
    { kernel_shape: [p, p], strides: [p, p] },
    'patch_embed',
  );
  const flat = g.op('Reshape', [conv, g.i64([0, cfg.width, -1])]);
  return g.op('Transpose', [flat], { perm: [0, 2, 1] });
}

/** concat(CLS, patches) + pos_embed → [B, 1+N, W]. */
function addClsAndPositions(g: GraphBuilder, w: WeightMap, pixels: Value, patches: Value, cfg: EvaVisionConfig): Value {
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.i64([0]), g.i64([1])]);
  const clsShape = g.op('Concat', [batch, g.i64([1, cfg.width])], { axis: 0 });
  const cls = g.op('Expand', [param(g, w, 'cls_token', [1, 1, cfg.width]), clsShape]);
  const tokens = g.op('Concat', [cls, patches], { axis: 1 });
  return g.op('Add', [tokens, param(g, w, 'pos_embed', [1, numPatches(cfg) + 1, cfg.width])], {}, 'block_input');
}

/** RoPE on the patch tokens of q or k ([B, H, 1+N, d]); the CLS token is not rotated. */
function applyRope(g: GraphBuilder, x: Value, rope: Rope): Value {
  const big = 2 ** 62;
  const cls = g.op('Slice', [x, g.i64([0]), g.i64([1]), g.i64([2])]);
  const patches = g.op('Slice', [x, g.i64([1]), g.i64([big]), g.i64([2])]);
  const swapped = g.op('Gather', [patches, rope.pairSwap], { axis: 3 });
  const rotated = g.op('Add', [g.op('Mul', [patches, rope.cos]), g.op('Mul', [swapped, rope.signedSin])]);
  return g.op('Concat', [cls, rotated], { axis: 2 });
}

/** Sub-LN attention: q/v biases (no k bias), RoPE, scaled dot product, inner LayerNorm, proj. */
function attention(g: GraphBuilder, w: WeightMap, x: Value, cfg: EvaVisionConfig, rope: Rope): Value {
  const width = cfg.width;
  const heads = numHeads(cfg);
  const dims = { in: width, out: width };
  const q = linear(g, w, x, dims, { weight: 'q_proj.weight', bias: 'q_bias' });
  const k = linear(g, w, x, dims, { weight: 'k_proj.weight', bias: null });
  const v = linear(g, w, x, dims, { weight: 'v_proj.weight', bias: 'v_bias' });
  const qh = applyRope(g, splitHeads(g, q, heads, cfg.headWidth), rope);
  const kh = applyRope(g, splitHeads(g, k, heads, cfg.headWidth), rope);
  const vh = splitHeads(g, v, heads, cfg.headWidth);
  const scaled = g.op('Mul', [qh, g.f32(cfg.headWidth ** -0.5)]);
  const scores = g.op('MatMul', [scaled, g.op('Transpose', [kh], { perm: [0, 1, 3, 2] })]);
  const merged = mergeHeads(g, attend(g, scores, vh), width);
  const normed = layerNorm(g, w.scope('inner_attn_ln'), merged, width, cfg.layerNormEps);
  return linear(g, w.scope('proj'), normed, dims);
}

/** SwiGLU: w3(ffn_ln(silu(w1·x) ⊙ w2·x)). */
function swiGlu(g: GraphBuilder, w: WeightMap, x: Value, cfg: EvaVisionConfig): Value {
  const hidden = mlpHidden(cfg);
  const up = { in: cfg.width, out: hidden };
  const gate = silu(g, linear(g, w.scope('w1'), x, up));
  const value = linear(g, w.scope('w2'), x, up);
  const normed = layerNorm(g, w.scope('ffn_ln'), g.op('Mul', [gate, value]), hidden, cfg.layerNormEps);
  return linear(g, w.scope('w3'), normed, { in: hidden, out: cfg.width });
}

/** Pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)); no layer scale. */
function block(g: GraphBuilder, w: WeightMap, x: Value, cfg: EvaVisionConfig, rope: Rope): Value {
  const a = attention(g, w.scope('attn'), layerNorm(g, w.scope('norm1'), x, cfg.width, cfg.layerNormEps), cfg, rope);
  const h = g.op('Add', [x, a]);
  const m = swiGlu(g, w.scope('mlp'), layerNorm(g, w.scope('norm2'), h, cfg.width, cfg.layerNormEps), cfg);
  return g.op('Add', [h, m]);
}

/**
 * pixels [B, 3, 224, 224] → all 1+N tokens after the last block, [B, 1+N, W].
 * `w` is scoped at the vision tower (`model_visual.visual`).
 */
export function evaVisionTower(g: GraphBuilder, w: WeightMap, pixels: Value, cfg: EvaVisionConfig): Value {
  if (gridSize(cfg) * cfg.patchSize !== cfg.imageSize) throw new Error('image size must be a multiple of the patch size');
  const patches = g.tap('vision.patch_embed', patchEmbed(g, w.scope('patch_embed'), pixels, cfg));
  let x = g.tap('vision.block_input', addClsAndPositions(g, w, pixels, patches, cfg));
  const rope = ropeTables(g, w.scope('rope'), cfg);
  for (let i = 0; i < cfg.layers; i++) x = g.tap(`vision.block${i}`, block(g, w.scope(`blocks.${i}`), x, cfg, rope));
  return g.tap('vision.encode_image_tokens', x);
}
