/**
 * `vbge export --onnx DIR`: the two graphs (weights as external data), the tokenizer files and a
 * manifest describing inputs, outputs, preprocessing and the fingerprint, so that any ONNX
 * runtime (Python, browsers) can compute the same embeddings.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointError, ConfigError } from '../errors.js';
import { CLIP_MEAN, CLIP_STD, PREPROCESS_VERSION } from '../image/preprocess.js';
import { type VisualizedBgeConfig, embeddingDim, imageTokenCount, textTokenLimit } from '../model/visualized-bge.js';
import type { Provenance } from '../runtime/provenance.js';
import { GRAPH_OPTIMIZATION_LEVEL } from '../runtime/session.js';
import { TextTokenizer } from '../text/tokenizer.js';
import { makeDirs } from '../util/fs.js';
import { writeGraphs } from './graph-files.js';
import { type ModelFileOptions, openModelSource } from './model-files.js';
import { modelProvenance } from './provenance.js';

export const EXPORT_FORMAT = 'visualized-bge-onnx/1';

interface IoSpec {
  name: string;
  dtype: 'float32' | 'int64';
  shape: (string | number)[];
  description: string;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  config: VisualizedBgeConfig;
  graphs: {
    vision: { file: string; data: string; inputs: IoSpec[]; outputs: IoSpec[] };
    text: { file: string; data: string; inputs: IoSpec[]; outputs: IoSpec[] };
  };
  tokenizer: { dir: string; files: string[]; kind: string; clsId: number; sepId: number; padId: number };
  sequence: Record<string, string | number>;
  preprocessing: Record<string, unknown>;
  onnxruntime: { graphOptimizationLevel: string; note: string };
  provenance: Provenance;
}

/**
 * Reads and checks an exported folder's manifest.json: every field the loader uses is checked
 * for its type, so a damaged or foreign manifest is a CheckpointError naming the field, never a
 * TypeError later.
 */
export function readExportManifest(dir: string): ExportManifest {
  const path = join(dir, 'manifest.json');
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CheckpointError(path, `not an exported Visualized BGE model (${(err as Error).message})`, { cause: err });
  }
  const at = (keys: string[]): unknown => keys.reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), manifest);
  const need = (keys: string[], kind: 'string' | 'object'): void => {
    const value = at(keys);
    if (kind === 'string' ? typeof value !== 'string' || value === '' : !isObject(value))
      throw new CheckpointError(path, `"${keys.join('.')}" must be ${kind === 'string' ? 'a file name' : 'an object'}; the manifest is damaged or not ours`);
  };
  if (!isObject(manifest)) throw new CheckpointError(path, 'not a JSON object; expected an exported Visualized BGE model');
  if (manifest['format'] !== EXPORT_FORMAT) throw new CheckpointError(path, `format is "${String(manifest['format'])}", expected "${EXPORT_FORMAT}"`);
  for (const keys of [['config', 'vision'], ['config', 'text'], ['provenance']]) need(keys, 'object');
  const files = [['graphs', 'vision', 'file'], ['graphs', 'vision', 'data'], ['graphs', 'text', 'file'], ['graphs', 'text', 'data'], ['tokenizer', 'dir']];
  for (const keys of files) need(keys, 'string');
  for (const keys of files) {
    const file = join(dir, at(keys) as string);
    if (!existsSync(file)) throw new CheckpointError(file, 'missing from the exported model');
  }
  return manifest as unknown as ExportManifest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type ExportOptions = ModelFileOptions;

export async function exportOnnx(options: ExportOptions, dir: string): Promise<ExportManifest> {
  if (existsSync(join(dir, 'manifest.json'))) throw new ConfigError(`${dir} already holds an exported model; choose an empty folder`);
  const { weights, textFolder: folder, config } = openModelSource(options);
  const tokenizer = await TextTokenizer.fromDir(options.textModel);
  makeDirs(join(dir, 'tokenizer'));
  const tokenizerFiles = [folder.configPath, ...Object.values(folder.tokenizer).filter((f): f is string => typeof f === 'string')];
  for (const f of tokenizerFiles) copyFileSync(f, join(dir, 'tokenizer', basename(f)));
  const n = imageTokenCount(config);
  const w = embeddingDim(config);
  const provenance: Provenance = await modelProvenance(options, config, tokenizer.fingerprint);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    config,
    graphs: {
      vision: {
        file: 'vision.onnx',
        data: 'vision.onnx.data',
        inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch', 3, 224, 224], description: 'preprocessed images (see preprocessing)' }],
        outputs: [{ name: 'image_tokens', dtype: 'float32', shape: ['batch', n, w], description: 'image tokens in the text embedding space (visual_proj + positions 1..N + embedding LayerNorm)' }],
      },
      text: {
        file: 'text.onnx',
        data: 'text.onnx.data',
        inputs: [
          { name: 'input_ids', dtype: 'int64', shape: ['batch', 'tokens'], description: 'token ids with CLS and SEP' },
          { name: 'position_ids', dtype: 'int64', shape: ['batch', 'tokens'], description: 'see sequence.positions' },
          { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'image_tokens + tokens'], description: '1 = attend; image part first (all 1), right padding only' },
          { name: 'image_tokens', dtype: 'float32', shape: ['batch', 'image_tokens', w], description: `the vision graph's output (${n} tokens), or 0 tokens for text-only inputs` },
        ],
        outputs: [{ name: 'embedding', dtype: 'float32', shape: ['batch', w], description: 'L2-normalised CLS state' }],
      },
    },
    tokenizer: { dir: 'tokenizer', files: tokenizerFiles.map((f) => basename(f)), kind: tokenizer.kind, clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId },
    sequence: {
      layout: '[CLS] + image tokens + text tokens[1:]',
      positions_text_only: config.text.modelType === 'bert' ? '0..T-1' : 'pad+1.. for real tokens, pad for padding (XLM-R rule)',
      positions_with_image: `CLS 0, text token j>=1 at ${n}+j`,
      max_tokens_text_only: textTokenLimit(config, false),
      max_tokens_with_image: textTokenLimit(config, true),
      image_only: 'the empty prompt [CLS][SEP] with the image tokens',
    },
    preprocessing: {
      version: PREPROCESS_VERSION,
      steps: [
        "decode (format by content; ICC profiles and the EXIF orientation of JPEG/PNG/WebP ignored; a TIFF's Orientation tag applied on load, as Pillow does, but the resize target below computed from the stored size, so orientations 5-8 come out squashed, as upstream)",
        'resize the short side to 224 with Pillow-exact BICUBIC (long side int(224*long/short)); P and 1 modes NEAREST; RGBA/LA premultiplied',
        'center crop 224x224 (offsets rounded half to even)',
        "convert('RGB') after resizing (alpha dropped, no compositing)",
        'x/255 in float32, then (x - mean) / std in float32, CHW',
      ],
      mean: CLIP_MEAN,
      std: CLIP_STD,
    },
    onnxruntime: {
      graphOptimizationLevel: GRAPH_OPTIMIZATION_LEVEL,
      note: 'bitwise reproducibility holds for one ONNX Runtime version, optimisation level and CPU dispatch path; other runtimes agree to ~1e-6',
    },
    provenance,
  };
  writeGraphs(dir, weights, config, manifest);
  return manifest;
}
