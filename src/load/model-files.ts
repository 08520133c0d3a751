/**
 * The files of a Visualized BGE model as the user names them — checkpoint, text model folder,
 * optional EVA02-CLIP config and text weights — opened and resolved into weights + configuration.
 */
import { readFileSync } from 'node:fs';
import { type HfTextFolder, readHfTextFolder } from '../checkpoint/hf-folder.js';
import { loadVisualizedWeights } from '../checkpoint/load.js';
import type { WeightMap } from '../checkpoint/weight-map.js';
import { ConfigError } from '../errors.js';
import { type VisionConfigJson, resolveModelConfig } from '../model/config.js';
import { EVA02_CLIP_B_16, EVA02_CLIP_L_14 } from '../model/eva-config.js';
import type { VisualizedBgeConfig } from '../model/visualized-bge.js';

export interface ModelFileOptions {
  readonly weights: string;
  readonly textModel: string;
  readonly visionConfig?: string;
  readonly textWeights?: string;
}

export interface ModelSource {
  readonly weights: WeightMap;
  readonly textFolder: HfTextFolder;
  readonly config: VisualizedBgeConfig;
}

/** Opens the checkpoint (lazily), the text model folder and the configuration, checked against each other. */
export function openModelSource(files: ModelFileOptions): ModelSource {
  const weights = loadVisualizedWeights(files.weights, { textWeights: files.textWeights });
  const textFolder = readHfTextFolder(files.textModel);
  const vision = files.visionConfig === undefined ? undefined : readVisionConfigFile(files.visionConfig);
  return { weights, textFolder, config: resolveModelConfig(weights, textFolder.config, vision) };
}

function readVisionConfigFile(path: string): VisionConfigJson {
  try {
    return { json: JSON.parse(readFileSync(path, 'utf8')), source: path };
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the vision config (${(err as Error).message})`, { cause: err });
  }
}

/** How provenance names the vision config: a built-in tower, or the sha256 of the JSON given. */
export function describeVisionConfig(config: VisualizedBgeConfig, sha256OfVisionConfigFile?: string): string {
  if (sha256OfVisionConfigFile !== undefined) return `sha256:${sha256OfVisionConfigFile}`;
  if (config.vision === EVA02_CLIP_B_16) return 'builtin:EVA02-CLIP-B-16';
  if (config.vision === EVA02_CLIP_L_14) return 'builtin:EVA02-CLIP-L-14';
  return 'inferred';
}
