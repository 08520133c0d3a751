/**
 * The BGE text tower (Hugging Face BertModel / XLMRobertaModel, spec §4): embeddings with
 * explicit position ids, post-LN encoder layers, additive fp16-min attention mask. Inference
 * only: the dropouts do not exist here. The pooler is never used (CLS pooling happens in the glue).
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import type { GraphBuilder, Value } from '../onnx/graph.js';
import { type BertConfig, headDim } from './bert-config.js';
import { FP16_MIN, attend, geluErf, headsShape, inQueryBlocks, layerNorm, linear, mergeHeads, splitHeads, toRows } from './layers.js';

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
  const word = w.get('word_embeddings.weight', [cfg.vocabSize, width]);
  const words = g.op('Gather', [g.initializer(w.key('word_embeddings.weight'), word.data, word.shape), ids], { axis: 0 });
  const types = w.get('token_type_embeddings.weight', [cfg.typeVocabSize, width]);
  const typeZero = g.initializer(`${w.key('token_type_embeddings.weight')}[0]`, types.data.slice(0, width), [width]);
  const pos = g.op('Gather', [positionTable(g, w, cfg), positions], { axis: 0 });
  const sum = g.op('Add', [g.op('Add', [words, typeZero]), pos]);
  return layerNorm(g, w.scope('LayerNorm'), sum, width, cfg.layerNormEps);
}

const positionTables = new WeakMap<GraphBuilder, Value>();

/** The position table as one shared initializer per graph. */
export function positionTable(g: GraphBuilder, w: WeightMap, cfg: BertConfig): Value {
  let table = positionTables.get(g);
  if (!table) {
    const t = w.get('position_embeddings.weight', [cfg.maxPositions, cfg.hiddenSize]);
    table = g.initializer(w.key('position_embeddings.weight'), t.data, t.shape);
    positionTables.set(g, table);
  }
  return table;
}

/** 0/1 mask [B, S] → additive [B, 1, 1, S]: (1 − m) · fp16 min, as get_extended_attention_mask. */
export function extendedAttentionMask(g: GraphBuilder, mask: Value): Value {
  const m = g.op('Cast', [mask], { to: 1 /* FLOAT */ });
  const additive = g.op('Mul', [g.op('Sub', [g.f32(1), m]), g.f32(FP16_MIN)]);
  return g.op('Unsqueeze', [additive, g.i64([1, 2])], {}, 'extended_attention_mask');
}

function selfAttention(g: GraphBuilder, w: WeightMap, x: Value, mask: Value, cfg: BertConfig, shape: Value, blockRows: number | undefined): Value {
  const d = headDim(cfg);
  const dims = { in: cfg.hiddenSize, out: cfg.hiddenSize };
  const q = splitHeads(g, linear(g, w.scope('query'), x, dims), shape);
  const kT = splitHeads(g, linear(g, w.scope('key'), x, dims), shape, true);
  const v = splitHeads(g, linear(g, w.scope('value'), x, dims), shape);
  const rows = (b: GraphBuilder, qRows: Value): Value => {
    const raw = b.op('MatMul', [qRows, kT]);
    // Eager BERT divides the scores by √d after the product (not q·d^-½ before it).
    const scores = b.op('Add', [b.op('Div', [raw, g.f32(Math.sqrt(d))]), mask]);
    return attend(b, scores, v);
  };
  return mergeHeads(g, blockRows === undefined ? rows(g, q) : inQueryBlocks(g, q, blockRows, rows), cfg.hiddenSize);
}

/** Post-LN layer: LN(x + dense(attn)), then LN(a + dense(gelu(dense(a)))). */
function encoderLayer(g: GraphBuilder, w: WeightMap, x: Value, mask: Value, cfg: BertConfig, shape: Value, blockRows: number | undefined): Value {
  const width = cfg.hiddenSize;
  const ctx = selfAttention(g, w.scope('attention.self'), x, mask, cfg, shape, blockRows);
  const attnOut = w.scope('attention.output');
  const a = layerNorm(g, attnOut.scope('LayerNorm'), g.op('Add', [linear(g, attnOut.scope('dense'), ctx, { in: width, out: width }), x]), width, cfg.layerNormEps);
  const inter = geluErf(g, linear(g, w.scope('intermediate.dense'), a, { in: width, out: cfg.intermediateSize }));
  const out = w.scope('output');
  const y = linear(g, out.scope('dense'), inter, { in: cfg.intermediateSize, out: width });
  return layerNorm(g, out.scope('LayerNorm'), g.op('Add', [y, a]), width, cfg.layerNormEps);
}

/**
 * The encoder stack over [B, S, W] (returned in the same shape); `w` is scoped at `bge_encoder`.
 * Inside, rows are kept 2-D ([B·S, W]) so that each linear layer is one fused Gemm.
 */
export function bertEncoder(g: GraphBuilder, w: WeightMap, x: Value, additiveMask: Value, cfg: BertConfig, batch: Value, options: BertBuildOptions = {}): Value {
  let h = toRows(g, x, cfg.hiddenSize);
  const heads = headsShape(g, batch, cfg.numHeads, headDim(cfg));
  const blockRows = attentionBlockRows(cfg, options);
  for (let i = 0; i < cfg.numLayers; i++) h = g.tap(`text.layer${i}`, encoderLayer(g, w.scope(`layer.${i}`), h, additiveMask, cfg, heads, blockRows));
  const sequences = g.op('Concat', [batch, g.i64([-1, cfg.hiddenSize])], { axis: 0 });
  return g.tap('encoder_output', g.op('Reshape', [h, sequences]));
}
