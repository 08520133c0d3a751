import { ConfigError } from '../errors.js';

/** EVA02-CLIP vision tower hyperparameters (the `vision_cfg` of an EVA02-CLIP model config). */
export interface EvaVisionConfig {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly width: number;
  readonly layers: number;
  readonly headWidth: number;
  readonly mlpRatio: number;
  /** EVA's LayerNorms (norm1, norm2, inner_attn_ln, ffn_ln) use 1e-6. */
  readonly layerNormEps: number;
}

export const EVA02_CLIP_B_16: EvaVisionConfig = {
  imageSize: 224,
  patchSize: 16,
  width: 768,
  layers: 12,
  headWidth: 64,
  mlpRatio: 2.6667,
  layerNormEps: 1e-6,
};

export const EVA02_CLIP_L_14: EvaVisionConfig = {
  imageSize: 224,
  patchSize: 14,
  width: 1024,
  layers: 24,
  headWidth: 64,
  mlpRatio: 2.6667,
  layerNormEps: 1e-6,
};

export function gridSize(cfg: EvaVisionConfig): number {
  return Math.trunc(cfg.imageSize / cfg.patchSize);
}

/** Image tokens N (the EVA CLS token not counted). */
export function numPatches(cfg: EvaVisionConfig): number {
  return gridSize(cfg) ** 2;
}

export function numHeads(cfg: EvaVisionConfig): number {
  return Math.trunc(cfg.width / cfg.headWidth);
}

/** SwiGLU hidden width: Python's int(width × mlp_ratio), i.e. truncation of the double product. */
export function mlpHidden(cfg: EvaVisionConfig): number {
  return Math.trunc(cfg.width * cfg.mlpRatio);
}

/**
 * Reads an EVA02-CLIP model config JSON (upstream `model_configs/*.json` format). Only the
 * settings of the published Visualized checkpoints are supported; anything else is refused
 * rather than silently computed differently.
 */
export function visionConfigFromJson(json: unknown, file: string): EvaVisionConfig {
  const root = json as { vision_cfg?: Record<string, unknown> } | null;
  const v = root?.vision_cfg;
  if (!v || typeof v !== 'object') throw new ConfigError(`${file}: no "vision_cfg" object (expected an EVA02-CLIP model config)`);
  const num = (key: string, fallback?: number): number => {
    const value = v[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(`${file}: vision_cfg.${key} must be a positive number`);
    return value;
  };
  const int = (key: string, fallback?: number): number => {
    const value = num(key, fallback);
    if (!Number.isInteger(value)) throw new ConfigError(`${file}: vision_cfg.${key} must be a positive integer, got ${value}`);
    return value;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = v[key] ?? fallback;
    if (typeof value !== 'boolean') throw new ConfigError(`${file}: vision_cfg.${key} must be true or false`);
    return value;
  };
  const require = (key: string, expected: boolean, fallback: boolean): void => {
    if (flag(key, fallback) !== expected)
      throw new ConfigError(`${file}: vision_cfg.${key}=${!expected} is not supported (Visualized BGE uses ${expected})`);
  };
  require('rope', true, false);
  require('naiveswiglu', true, false);
  require('subln', true, false);
  require('intp_freq', true, false);
  require('postnorm', false, false);
  if (v['ls_init_value'] != null) throw new ConfigError(`${file}: vision_cfg.ls_init_value (layer scale) is not supported`);
  const cfg: EvaVisionConfig = {
    imageSize: int('image_size'),
    patchSize: int('patch_size'),
    width: int('width'),
    layers: int('layers'),
    headWidth: int('head_width', 64),
    mlpRatio: num('mlp_ratio'),
    layerNormEps: 1e-6,
  };
  if (cfg.imageSize !== 224) throw new ConfigError(`${file}: vision_cfg.image_size is ${cfg.imageSize}; preprocessing is fixed at 224`);
  if (cfg.imageSize % cfg.patchSize !== 0) throw new ConfigError(`${file}: image_size ${cfg.imageSize} is not a multiple of patch_size ${cfg.patchSize}`);
  if (cfg.width % cfg.headWidth !== 0) throw new ConfigError(`${file}: width ${cfg.width} is not a multiple of head_width ${cfg.headWidth}`);
  return cfg;
}
