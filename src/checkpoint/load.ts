/**
 * Opening weights files by content (not extension), loading Visualized BGE checkpoints, and
 * checking that a checkpoint really is one.
 */
import { closeSync, statSync } from 'node:fs';
import { CheckpointError } from '../errors.js';
import { openRegularFile, readExact } from './file-io.js';
import { mapHfTextWeights, readHfTextFolder } from './hf-folder.js';
import { looksLikeSafetensors, MAX_SAFETENSORS_HEADER_BYTES, openSafetensors } from './safetensors.js';
import type { StoredTensor } from './tensor.js';
import { openTorchZip } from './torch-zip.js';
import { WeightMap } from './weight-map.js';
import { sha256OfFile } from '../util/file-hash.js';

export type CheckpointFormat = 'torch-zip' | 'safetensors';

/** Identifies a weights file from its first bytes; throws a CheckpointError saying what it is not. */
export function detectCheckpointFormat(path: string): CheckpointFormat {
  const { fd, size } = openRegularFile(path);
  try {
    if (size === 0) throw new CheckpointError(path, 'file is empty');
    const head = readExact(path, fd, 0, Math.min(size, 16));
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'torch-zip';
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x05 && head[3] === 0x06) {
      throw new CheckpointError(path, 'is an empty zip archive, not a torch.save file');
    }
    if (looksLikeSafetensors(head, size) || looksLikeTruncatedSafetensors(head)) return 'safetensors';
    if (head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) {
      throw new CheckpointError(
        path,
        'is a raw pickle (legacy torch.save format before PyTorch 1.6, or a plain pickle): not supported — ' +
          're-save it with a current torch.save or as safetensors',
      );
    }
    const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new CheckpointError(
      path,
      `unrecognised weights format (first bytes ${hex}): expected a torch.save zip (.pth / pytorch_model.bin) or .safetensors`,
    );
  } finally {
    closeSync(fd);
  }
}

/** A plausible safetensors header length followed by '{': let the reader say what is wrong. */
function looksLikeTruncatedSafetensors(head: Uint8Array): boolean {
  if (head.length < 9 || head[8] !== 0x7b) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(MAX_SAFETENSORS_HEADER_BYTES);
}

/** Opens a `.pth` / `pytorch_model.bin` / `.safetensors` file, whatever its name. */
export function openCheckpoint(path: string): WeightMap {
  return detectCheckpointFormat(path) === 'torch-zip' ? openTorchZip(path) : openSafetensors(path);
}

/** Groups of keys a Visualized BGE checkpoint must have (one representative each). */
const REQUIRED_VISUALIZED_KEYS = [
  'bge_embeddings.word_embeddings.weight',
  'bge_embeddings.position_embeddings.weight',
  'bge_embeddings.LayerNorm.weight',
  'bge_encoder.layer.0.attention.self.query.weight',
  'model_visual.visual.patch_embed.proj.weight',
  'model_visual.visual.pos_embed',
  'model_visual.visual.cls_token',
  'model_visual.visual.blocks.0.attn.q_proj.weight',
  'visual_proj.weight',
  'visual_proj.bias',
] as const;

/**
 * Fails with a CheckpointError naming the file when `w` is not a Visualized BGE state dict,
 * saying what it looks like instead (a text model, an EVA/CLIP vision model).
 */
export function assertVisualizedCheckpoint(w: WeightMap): void {
  const keys = w.allKeys();
  const missing = REQUIRED_VISUALIZED_KEYS.filter((k) => !w.has(k));
  if (missing.length === 0) return;
  const any = (re: RegExp): boolean => keys.some((k) => re.test(k));
  const hasVisual = any(/^model_visual\./);
  const hasBge = any(/^bge_(embeddings|encoder)\./);
  let what = '';
  if (!hasVisual && !hasBge) {
    if (any(/^((bert|roberta)\.)?(embeddings|encoder\.layer)\./)) {
      what = 'it looks like a plain BERT/XLM-R text model checkpoint (HF key names, no model_visual.* vision tower)';
    } else if (any(/^(visual\.)?(blocks\.\d+\.|patch_embed\.)/) || any(/^visual\./)) {
      what = 'it looks like a plain EVA/CLIP vision checkpoint (no bge_* text tower and no model_visual.* prefix)';
    } else {
      what = 'it has neither the bge_* text tower nor the model_visual.* vision tower';
    }
  } else if (!hasVisual) {
    what = 'it has no model_visual.* vision tower';
  } else if (!hasBge) {
    what = 'it has no bge_* text tower';
  } else {
    what = 'it is incomplete';
  }
  const sample = keys.slice(0, 3).map((k) => `"${k}"`).join(', ');
  throw new CheckpointError(
    w.source,
    `not a Visualized BGE checkpoint: ${what}; missing ${missing.map((k) => `"${k}"`).join(', ')}` +
      ` (${keys.length} tensors${keys.length ? `, e.g. ${sample}` : ''})`,
  );
}

export interface LoadVisualizedOptions {
  /**
   * An HF text-model folder or weights file whose tensors replace the checkpoint's `bge_*`
   * tensors (every `bge_*` key must be covered, with the same shape).
   */
  readonly textWeights?: string;
}

/** Opens and validates a Visualized BGE `.pth`, optionally with the text tower from elsewhere. */
export function loadVisualizedWeights(pthPath: string, opts: LoadVisualizedOptions = {}): WeightMap {
  const w = openCheckpoint(pthPath);
  assertVisualizedCheckpoint(w);
  if (opts.textWeights === undefined) return w;
  return replaceTextTower(w, opts.textWeights);
}

function replaceTextTower(w: WeightMap, textWeights: string): WeightMap {
  let textFile = textWeights;
  let isDir = false;
  try {
    isDir = statSync(textWeights).isDirectory();
  } catch (err) {
    throw new CheckpointError(textWeights, 'text weights not found', { cause: err });
  }
  if (isDir) {
    const folder = readHfTextFolder(textWeights);
    if (!folder.weights) throw new CheckpointError(textWeights, 'text model folder has neither model.safetensors nor pytorch_model.bin');
    textFile = folder.weights;
  }
  const text = mapHfTextWeights(openCheckpoint(textFile));
  const textKeys = new Set(text.allKeys());
  const out = new Map<string, StoredTensor>();
  const bgeKeys = w.allKeys().filter((k) => k.startsWith('bge_'));
  const missing = bgeKeys.filter((k) => !textKeys.has(k));
  if (missing.length > 0) {
    throw new CheckpointError(
      textFile,
      `text weights lack ${missing.length} of the checkpoint's ${bgeKeys.length} text-tower tensors, e.g. "${missing[0]}"`,
    );
  }
  const extra = [...textKeys].filter((k) => !w.has(k));
  if (extra.length > 0) {
    throw new CheckpointError(
      textFile,
      `text weights have ${extra.length} tensors the checkpoint does not (e.g. "${extra[0]}"): a different architecture?`,
    );
  }
  for (const key of w.allKeys()) {
    if (!key.startsWith('bge_')) {
      out.set(key, w.stored(key));
      continue;
    }
    const t = text.stored(key);
    const expected = w.shape(key);
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new CheckpointError(
        textFile,
        `text tensor for "${key}" has shape [${t.shape.join(', ')}], the checkpoint's has [${expected.join(', ')}]`,
      );
    }
    out.set(key, t);
  }
  return WeightMap.fromTensors(out, w.source);
}

/** The SHA-256 of a file as lowercase hex, streamed (for provenance of large checkpoints). */
export async function sha256File(path: string): Promise<string> {
  openRegularFileCheck(path);
  try {
    return await sha256OfFile(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read (${(err as Error).message})`, { cause: err });
  }
}

function openRegularFileCheck(path: string): void {
  closeSync(openRegularFile(path).fd);
}

/** The weights file behind a `textWeights` option: a file as given, or an HF folder's weights file. */
export function textWeightsFile(path: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new CheckpointError(path, 'text weights not found', { cause: err });
  }
  if (!isDir) return path;
  const folder = readHfTextFolder(path);
  if (!folder.weights) throw new CheckpointError(path, 'text model folder has neither model.safetensors nor pytorch_model.bin');
  return folder.weights;
}
