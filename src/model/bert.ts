/**
 * The BGE text tower (Hugging Face BertModel / XLMRobertaModel, spec §4): embeddings with
 * explicit position ids, post-LN encoder layers, additive fp16-min attention mask. Inference
 * only: the dropouts do not exist here. The pooler is never used (CLS pooling happens in the glue).
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import { type GraphBuilder, ONNX_TYPE, type Value } from '../onnx/graph.js';
import { type BertConfig, headDim } from './bert-config.js';
import { FP16_MIN, attend, exactQueryScale, geluErf, headsShape, inQueryBlocks, layerNorm, linear, mergeHeads, splitHeads, toRows } from './layers.js';

/**
 * Query rows per attention block for models with long sequences: bge-m3 at 8192 tokens then holds
 * [16, ≤ 513, 8192] scores (269 MB) per text instead of [16, 8192, 8192] (4.3 GB), bit for bit the
 * same result. Models whose longest sequence is at most two blocks (bge-base: 512 positions) keep
 * plain attention: their scores are small, and a Loop costs every run a little.
 */
export const ATTENTION_BLOCK_ROWS = 512;

export interface BertBuildOptions {
  /** Override of ATTENTION_BLOCK_ROWS (tests use small blocks on small models); 0 = never block. */
  readonly attentionBlockRows?: number;
  /**
   * Compute the last layer for every token, not only for CLS (same CLS bits, more work): for
   * debug builds whose taps expose every layer's full output.
   */
  readonly fullLastLayer?: boolean;
  /**
   * Attention exactly as eager BERT writes it — scores divided by √d after the product, the mask
   * always added — instead of the exact rewrites (exactQueryScale, maskedSoftmax): tests compare
   * the two bit for bit.
   */
  readonly literalAttention?: boolean;
}

/** The attention block size for this model, or undefined when every sequence fits in one block. */
export function attentionBlockRows(cfg: BertConfig, options: BertBuildOptions = {}): number | undefined {
  const rows = options.attentionBlockRows ?? ATTENTION_BLOCK_ROWS;
  return rows > 0 && cfg.maxPositions > 2 * rows ? rows : undefined;
}

/**
 * word_embeddings[ids] + token_type_embeddings[0] + position_embeddings[positions], then
 * LayerNorm. `w` is scoped at `bge_embeddings`. Token types are always 0 upstream.
 */
export function bertEmbeddings(g: GraphBuilder, w: WeightMap, ids: Value, positions: Value, cfg: BertConfig): Value {
  const width = cfg.hiddenSize;
  const table = (name: string, rows: number): Value => {
    const t = w.get(name, [rows, width]);
    return g.initializer(w.key(name), t.data, t.shape);
  };
  const words = g.node('Gather', [table('word_embeddings.weight', cfg.vocabSize), ids], { axis: 0 });
  const types = w.get('token_type_embeddings.weight', [cfg.typeVocabSize, width]);
  const typeZero = g.initializer(`${w.key('token_type_embeddings.weight')}[0]`, types.data.slice(0, width), [width]);
  const pos = g.node('Gather', [table('position_embeddings.weight', cfg.maxPositions), positions], { axis: 0 });
  const sum = g.node('Add', [g.node('Add', [words, typeZero]), pos]);
  return layerNorm(g, w.scope('LayerNorm'), sum, width, cfg.layerNormEps);
}

/** The attention mask as the encoder uses it. */
export interface AttentionMask {
  /** (1 − m) · fp16 min, [B, 1, 1, S], as get_extended_attention_mask. */
  readonly additive: Value;
  /**
   * A bool scalar: some key of the batch is masked out. Only then can adding the mask change a
   * score: x + 0 is x for every float (and ±0 give the same softmax), so unmasked batches skip
   * the addition — one pass over every [B, H, S, S] score tensor less.
   */
  readonly anyMasked: Value;
}

/** 0/1 mask [B, S] (int64) → the additive mask and whether it masks anything. */
export function extendedAttentionMask(g: GraphBuilder, mask: Value): AttentionMask {
  const m = g.node('Cast', [mask], { to: ONNX_TYPE.float32 });
  const additive = g.node('Mul', [g.node('Sub', [g.f32(1), m]), g.f32(FP16_MIN)]);
  return {
    additive: g.node('Unsqueeze', [additive, g.i64([1, 2])], {}, 'extended_attention_mask'),
    anyMasked: g.node('Less', [g.node('ReduceMin', [mask], { keepdims: 0 }), g.i64(1)], {}, 'any_key_masked'),
  };
}

/** What every layer of one encoder shares. */
interface EncoderContext {
  readonly g: GraphBuilder;
  readonly cfg: BertConfig;
  readonly mask: AttentionMask;
  /** [B, −1, heads, d]: the shape rows are viewed as before splitting heads. */
  readonly heads: Value;
  readonly blockRows: number | undefined;
  readonly literal: boolean;
}

/** Attention of the query rows `rows` over all rows `x` (both [B·n, W] 2-D). */
function selfAttention(ctx: EncoderContext, w: WeightMap, x: Value, rows: Value): Value {
  const { g, cfg, heads } = ctx;
  const dims = { in: cfg.hiddenSize, out: cfg.hiddenSize };
  const queryScale = ctx.literal ? undefined : exactQueryScale(headDim(cfg));
  const unscaled = splitHeads(g, linear(g, w.scope('query'), rows, dims), heads);
  const q = queryScale === undefined ? unscaled : g.node('Mul', [unscaled, g.f32(queryScale)]);
  const kT = splitHeads(g, linear(g, w.scope('key'), x, dims), heads, true);
  const v = splitHeads(g, linear(g, w.scope('value'), x, dims), heads);
  const attendRows = (b: GraphBuilder, qRows: Value): Value => {
    const product = b.node('MatMul', [qRows, kT]);
    // Eager BERT divides the scores by √d after the product; see exactQueryScale.
    const scores = queryScale === undefined ? b.node('Div', [product, g.f32(Math.sqrt(headDim(cfg)))]) : product;
    if (ctx.literal) return attend(b, b.node('Add', [scores, ctx.mask.additive]), v);
    return b.node('MatMul', [maskedSoftmax(b, scores, ctx.mask), v]);
  };
  const blocked = ctx.blockRows !== undefined && rows === x;
  return mergeHeads(g, blocked ? inQueryBlocks(g, q, ctx.blockRows!, attendRows) : attendRows(g, q), cfg.hiddenSize);
}

/** softmax(scores + mask) over the keys, adding the mask only when it masks something. */
function maskedSoftmax(b: GraphBuilder, scores: Value, mask: AttentionMask): Value {
  const masked = b.subgraph('masked_softmax');
  masked.output(masked.node('Softmax', [masked.node('Add', [scores, mask.additive])], { axis: -1 }), 'float32', null);
  const unmasked = b.subgraph('softmax');
  unmasked.output(unmasked.node('Softmax', [scores], { axis: -1 }), 'float32', null);
  return b.node('If', [mask.anyMasked], { then_branch: { graph: masked }, else_branch: { graph: unmasked } });
}

/**
 * Post-LN layer: LN(x + dense(attn)), then LN(a + dense(gelu(dense(a)))), for the rows `rows` of
 * x (all of them by default); keys and values always come from all rows.
 */
function encoderLayer(ctx: EncoderContext, w: WeightMap, x: Value, rows: Value = x): Value {
  const { g, cfg } = ctx;
  const width = cfg.hiddenSize;
  const attn = selfAttention(ctx, w.scope('attention.self'), x, rows);
  const attnOut = w.scope('attention.output');
  const a = layerNorm(g, attnOut.scope('LayerNorm'), g.node('Add', [linear(g, attnOut.scope('dense'), attn, { in: width, out: width }), rows]), width, cfg.layerNormEps);
  const inter = geluErf(g, linear(g, w.scope('intermediate.dense'), a, { in: width, out: cfg.intermediateSize }));
  const out = w.scope('output');
  const y = linear(g, out.scope('dense'), inter, { in: cfg.intermediateSize, out: width });
  return layerNorm(g, out.scope('LayerNorm'), g.node('Add', [y, a]), width, cfg.layerNormEps);
}

/**
 * The encoder stack over [B, S, W] → the last layer's CLS state [B, W], the only one the
 * embedding uses; `w` is scoped at `bge_encoder`. Inside, rows are kept 2-D ([B·S, W]) so that
 * each linear layer is one fused Gemm.
 *
 * The last layer runs its queries and everything after attention for the first two rows of each
 * sequence only (S ≥ 2: CLS and SEP at least), not all S: every kernel is row-invariant, so CLS
 * gets the same bits. Two rows, not one: a one-row attention GEMM takes another MLAS kernel.
 */
export function bertEncoder(g: GraphBuilder, w: WeightMap, x: Value, mask: AttentionMask, cfg: BertConfig, batch: Value, options: BertBuildOptions = {}): Value {
  const width = cfg.hiddenSize;
  const ctx: EncoderContext = { g, cfg, mask, heads: headsShape(g, batch, cfg.numHeads, headDim(cfg)), blockRows: attentionBlockRows(cfg, options), literal: options.literalAttention ?? false };
  const sequences = g.node('Concat', [batch, g.i64([-1, width])], { axis: 0 });
  const cls = (rows: Value): Value => g.node('Gather', [g.node('Reshape', [rows, sequences]), g.i64(0)], { axis: 1 });
  const last = cfg.numLayers - 1;
  let h = toRows(g, x, width);
  for (let i = 0; i < last; i++) h = g.tap(`text.layer${i}`, encoderLayer(ctx, w.scope(`layer.${i}`), h));
  if (options.fullLastLayer) {
    const out = g.tap(`text.layer${last}`, encoderLayer(ctx, w.scope(`layer.${last}`), h));
    g.tap('encoder_output', g.node('Reshape', [out, sequences]));
    return cls(out);
  }
  const firstTwo = toRows(g, g.node('Slice', [g.node('Reshape', [h, sequences]), g.i64([0]), g.i64([2]), g.i64([1])]), width);
  return cls(encoderLayer(ctx, w.scope(`layer.${last}`), h, firstTwo));
}
