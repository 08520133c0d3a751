/**
 * The full model configuration, resolved from the checkpoint, the text model's config.json and
 * (for checkpoints other than the two published ones) an EVA02-CLIP config JSON. Pure: the files
 * are read by the load layer (src/load/model-files.ts).
 */
import type { TextModelConfig } from '../checkpoint/hf-folder.js';
import type { WeightMap } from '../checkpoint/weight-map.js';
import { CheckpointError, ConfigError } from '../errors.js';
import type { BertConfig } from './bert-config.js';
import { EVA02_CLIP_B_16, EVA02_CLIP_L_14, type EvaVisionConfig, visionConfigFromJson } from './eva-config.js';
import type { VisualizedBgeConfig } from './visualized-bge.js';

export function bertConfigFromHf(c: TextModelConfig): BertConfig {
  for (const key of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'vocab_size'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) throw new ConfigError(`text model config: ${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new ConfigError(`text model config: hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
  if (!(c.layer_norm_eps > 0)) throw new ConfigError(`text model config: layer_norm_eps must be positive, got ${c.layer_norm_eps}`);
  if (c.hidden_act !== 'gelu') throw new ConfigError(`text model hidden_act "${c.hidden_act}" is not supported (BGE uses exact "gelu")`);
  if (c.position_embedding_type !== 'absolute')
    throw new ConfigError(`text model position_embedding_type "${c.position_embedding_type}" is not supported (BGE uses "absolute")`);
  return {
    modelType: c.model_type,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    layerNormEps: c.layer_norm_eps,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    vocabSize: c.vocab_size,
    padTokenId: c.pad_token_id,
  };
}

function countBlocks(w: WeightMap): number {
  let n = 0;
  while (w.has(`model_visual.visual.blocks.${n}.norm1.weight`)) n++;
  return n;
}

/** An EVA02-CLIP config JSON as parsed, and the file it came from (for messages). */
export interface VisionConfigJson {
  readonly json: unknown;
  readonly source: string;
}

/**
 * The vision config: from the given EVA02-CLIP config JSON, else recognised from the checkpoint's
 * shapes as one of the two published towers (B/16 of the base model, L/14 of m3).
 */
export function resolveVisionConfig(w: WeightMap, vision?: VisionConfigJson): EvaVisionConfig {
  if (vision) return visionConfigFromJson(vision.json, vision.source);
  const proj = w.shape('model_visual.visual.patch_embed.proj.weight');
  const blocks = countBlocks(w);
  for (const known of [EVA02_CLIP_B_16, EVA02_CLIP_L_14]) {
    if (proj[0] === known.width && proj[2] === known.patchSize && blocks === known.layers) return known;
  }
  throw new CheckpointError(
    w.source,
    `the vision tower (width ${proj[0]}, patch ${proj[2]}, ${blocks} blocks) is not one of the published EVA02-CLIP-B-16 / L-14 towers; pass its EVA02-CLIP config JSON (--vision-config)`,
  );
}

function countTextLayers(w: WeightMap): number {
  let n = 0;
  while (w.has(`bge_encoder.layer.${n}.attention.self.query.weight`)) n++;
  return n;
}

/**
 * The configuration, checked against the checkpoint's layer counts (shapes are checked when the
 * weights are read): a config that does not describe these weights is an error, never a
 * silently different model.
 */
export function resolveModelConfig(w: WeightMap, text: TextModelConfig, vision?: VisionConfigJson): VisualizedBgeConfig {
  const config = { vision: resolveVisionConfig(w, vision), text: bertConfigFromHf(text) };
  const blocks = countBlocks(w);
  if (blocks !== config.vision.layers)
    throw new CheckpointError(w.source, `the checkpoint has ${blocks} vision blocks but the vision config says ${config.vision.layers}${vision ? ` (${vision.source})` : ''}`);
  const layers = countTextLayers(w);
  if (layers !== config.text.numLayers)
    throw new CheckpointError(w.source, `the checkpoint has ${layers} text layers but the text model's config.json says ${config.text.numLayers}`);
  return config;
}
