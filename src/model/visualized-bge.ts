/**
 * The Visualized BGE glue (spec §5): the vision graph turns pixels into image tokens that live
 * in the text tower's embedding space; the text graph runs the BGE encoder over
 * [CLS | image tokens | text tokens] and returns the L2-normalised CLS state.
 *
 * Both graphs are pure functions of their inputs: nothing random, no dropout, no state.
 */
import type { WeightMap } from '../checkpoint/weight-map.js';
import { ConfigError } from '../errors.js';
import { GraphBuilder, type Value } from '../onnx/graph.js';
import type { BertConfig } from './bert-config.js';
import { type BertBuildOptions, bertEmbeddings, bertEncoder, extendedAttentionMask } from './bert.js';
import { type EvaVisionConfig, numPatches } from './eva-config.js';
import { evaVisionTower } from './eva-vit.js';
import { batchDim, layerNorm, linear } from './layers.js';

export interface VisualizedBgeConfig {
  readonly vision: EvaVisionConfig;
  readonly text: BertConfig;
}

/** Image tokens per image (EVA CLS dropped). */
export function imageTokenCount(cfg: VisualizedBgeConfig): number {
  return numPatches(cfg.vision);
}

export function embeddingDim(cfg: VisualizedBgeConfig): number {
  return cfg.text.hiddenSize;
}

export function checkCompatible(cfg: VisualizedBgeConfig): void {
  if (cfg.vision.width !== cfg.text.hiddenSize)
    throw new ConfigError(`vision width ${cfg.vision.width} differs from the text hidden size ${cfg.text.hiddenSize}; visual_proj needs them equal`);
  if (imageTokenCount(cfg) + 2 > cfg.text.maxPositions)
    throw new ConfigError(`${imageTokenCount(cfg)} image tokens do not fit in ${cfg.text.maxPositions} text positions`);
}

/**
 * Most tokens (CLS and SEP included) a text may have. Text only: BERT positions 0..T−1 and
 * XLM-R positions 2..T+1 must exist. With an image: positions N+1..N+T−1 must exist (spec §5.6).
 */
export function textTokenLimit(cfg: VisualizedBgeConfig, withImage: boolean): number {
  const maxPos = cfg.text.maxPositions;
  if (withImage) return maxPos - imageTokenCount(cfg);
  return cfg.text.modelType === 'xlm-roberta' ? maxPos - cfg.text.padTokenId - 1 : maxPos;
}

/** Position ids of a text-only input (the models' own defaults, spec §4.1). */
export function textOnlyPositions(cfg: BertConfig, ids: readonly number[]): number[] {
  if (cfg.modelType === 'bert') return ids.map((_, i) => i);
  // XLM-R: create_position_ids_from_input_ids: real tokens count up from pad+1, pads get pad.
  const pad = cfg.padTokenId;
  let count = 0;
  return ids.map((id) => (id === pad ? pad : ++count + pad));
}

/** Position ids of the text part of a composed input: CLS at 0, token j ≥ 1 at N + j (spec §5.2). */
export function composedPositions(cfg: VisualizedBgeConfig, tokenCount: number): number[] {
  const n = imageTokenCount(cfg);
  return Array.from({ length: tokenCount }, (_, j) => (j === 0 ? 0 : n + j));
}

const END = 2 ** 62;

/** pixels [B, 3, 224, 224] → image tokens [B, N, W] (visual_proj + positions 1..N + embedding LN). */
export function buildVisionGraph(w: WeightMap, cfg: VisualizedBgeConfig): GraphBuilder {
  checkCompatible(cfg);
  const g = new GraphBuilder('visualized_bge_vision');
  const { width, imageSize } = cfg.vision;
  const n = imageTokenCount(cfg);
  const pixels = g.input('pixel_values', 'float32', ['batch', 3, imageSize, imageSize]);
  const tokens = evaVisionTower(g, w.scope('model_visual.visual'), pixels, cfg.vision);
  const patches = g.node('Slice', [tokens, g.i64([1]), g.i64([END]), g.i64([1])]);
  const projected = g.tap('visual_proj', linear(g, w.scope('visual_proj'), patches, { in: width, out: width }));
  const emb = w.scope('bge_embeddings');
  const table = emb.get('position_embeddings.weight', [cfg.text.maxPositions, cfg.text.hiddenSize]);
  const rows = g.initializer(`${emb.key('position_embeddings.weight')}[1:${n + 1}]`, table.data.slice(width, (n + 1) * width), [n, width]);
  const imageTokens = layerNorm(g, emb.scope('LayerNorm'), g.node('Add', [projected, rows]), width, cfg.text.layerNormEps);
  g.tap('image_tokens_pos_ln', imageTokens);
  g.output(imageTokens, 'float32', ['batch', n, width], 'image_tokens');
  return g;
}

/**
 * [CLS | image tokens | text tokens] → BGE encoder → L2-normalised CLS state [B, W]. `options`:
 * `fullLastLayer` for debug builds that tap every layer's full output.
 * Text-only inputs pass zero image tokens. Inputs:
 * - input_ids, position_ids [B, T] int64;
 * - attention_mask [B, N' + T] int64 (1 = attend), image part first;
 * - image_tokens [B, N', W] float32 with N' ∈ {0, N}.
 */
export function buildTextGraph(w: WeightMap, cfg: VisualizedBgeConfig, options: BertBuildOptions = {}): GraphBuilder {
  const g = new GraphBuilder('visualized_bge_text');
  const width = cfg.text.hiddenSize;
  const ids = g.input('input_ids', 'int64', ['batch', 'tokens']);
  const positions = g.input('position_ids', 'int64', ['batch', 'tokens']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const imageTokens = g.input('image_tokens', 'float32', ['batch', 'image_tokens', width]);

  const prompt = g.tap('prompt_embeddings', bertEmbeddings(g, w.scope('bge_embeddings'), ids, positions, cfg.text));
  const cls = g.node('Slice', [prompt, g.i64([0]), g.i64([1]), g.i64([1])]);
  const rest = g.node('Slice', [prompt, g.i64([1]), g.i64([END]), g.i64([1])]);
  const sequence = g.tap('encoder_input', g.node('Concat', [cls, imageTokens, rest], { axis: 1 }));
  const attentionMask = extendedAttentionMask(g, mask);
  g.tap('extended_attention_mask', attentionMask.additive);
  const state = bertEncoder(g, w.scope('bge_encoder'), sequence, attentionMask, cfg.text, batchDim(g, ids), options);
  g.output(l2Normalized(g, state), 'float32', ['batch', width], 'embedding');
  return g;
}

/** The CLS state [B, W] / max(‖·‖₂, 1e-12), as F.normalize. */
function l2Normalized(g: GraphBuilder, state: Value): Value {
  const norm = g.node('ReduceL2', [state], { axes: [-1], keepdims: 1 });
  return g.tap('embedding', g.node('Div', [state, g.node('Max', [norm, g.f32(1e-12)])]));
}
