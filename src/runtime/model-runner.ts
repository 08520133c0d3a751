/**
 * Runs the two Visualized BGE graphs. Inputs here are already tokenised and preprocessed, and
 * every batch is shape-uniform (see scheduler.ts), so this layer never pads.
 */
import type * as Ort from 'onnxruntime-node';
import { type VisualizedBgeConfig, composedPositions, embeddingDim, imageTokenCount, textOnlyPositions } from '../model/visualized-bge.js';
import { ort } from './session.js';
import type { GraphSession } from './worker-session.js';

export const PIXELS_PER_IMAGE = 3 * 224 * 224;

export interface TextBatchItem {
  readonly ids: readonly number[];
  /** Image tokens [N, W] from the vision graph, or undefined for a text-only input. */
  readonly imageTokens?: Float32Array;
}

export interface StageTimer {
  (stage: 'vision' | 'text', ms: number): void;
}

export class ModelRunner {
  constructor(
    readonly config: VisualizedBgeConfig,
    /** Absent when the model was opened for text only. */
    private readonly vision: GraphSession | undefined,
    private readonly text: GraphSession,
    private readonly onStage?: StageTimer,
  ) {}

  /** pixels of B images ([3, 224, 224] each) → image tokens [N, W] per image. */
  async runVision(pixels: readonly Float32Array[]): Promise<Float32Array[]> {
    if (!this.vision) throw new Error('internal: this model was opened without its vision graph');
    const b = pixels.length;
    const batch = new Float32Array(b * PIXELS_PER_IMAGE);
    pixels.forEach((p, i) => batch.set(p, i * PIXELS_PER_IMAGE));
    const start = performance.now();
    const out = await this.vision.run({ pixel_values: new ort.Tensor('float32', batch, [b, 3, 224, 224]) });
    this.onStage?.('vision', performance.now() - start);
    const tokens = out['image_tokens']!.data as Float32Array;
    const per = imageTokenCount(this.config) * embeddingDim(this.config);
    // Views, not copies: each image's tokens are read once more, by runText.
    return pixels.map((_, i) => tokens.subarray(i * per, (i + 1) * per));
  }

  /**
   * B inputs with the same token count and the same kind (all composed or all text-only) →
   * their embeddings.
   */
  async runText(items: readonly TextBatchItem[]): Promise<Float32Array[]> {
    const b = items.length;
    const t = items[0]!.ids.length;
    const withImage = items[0]!.imageTokens !== undefined;
    for (const item of items) {
      if (item.ids.length !== t || (item.imageTokens !== undefined) !== withImage) throw new Error('internal: a text batch must be shape-uniform');
    }
    const n = withImage ? imageTokenCount(this.config) : 0;
    const w = embeddingDim(this.config);
    const ids = new BigInt64Array(b * t);
    const positions = new BigInt64Array(b * t);
    const image = withImage ? imageTokensOf(items, n * w) : new Float32Array(0);
    // Composed inputs share one position row (it depends on the length only).
    const shared = withImage ? composedPositions(this.config, t) : undefined;
    items.forEach((item, i) => {
      const pos = shared ?? textOnlyPositions(this.config.text, item.ids);
      for (let j = 0; j < t; j++) {
        ids[i * t + j] = BigInt(item.ids[j]!);
        positions[i * t + j] = BigInt(pos[j]!);
      }
    });
    const start = performance.now();
    const out = await this.text.run({
      input_ids: new ort.Tensor('int64', ids, [b, t]),
      position_ids: new ort.Tensor('int64', positions, [b, t]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(b * (n + t)).fill(1n), [b, n + t]),
      image_tokens: new ort.Tensor('float32', image, [b, n, w]),
    });
    this.onStage?.('text', performance.now() - start);
    const emb = out['embedding']!.data as Float32Array;
    return items.map((_, i) => emb.slice(i * w, (i + 1) * w));
  }

  async release(): Promise<void> {
    await this.vision?.release();
    await this.text.release();
  }
}

/**
 * The items' image tokens as one [B, N, W] array. When they already lie side by side in one buffer,
 * in order (a vision batch's output, its images embedded together: every bulk batch), that memory
 * is the input as it is; otherwise they are copied together. Fresh memory is not free: each new
 * page faults in on first touch (~20 µs a page on a Firecracker VM, 4.8 MB per batch of 8).
 */
export function imageTokensOf(items: readonly TextBatchItem[], perItem: number): Float32Array {
  const first = items[0]!.imageTokens!;
  const adjacent = items.every((item, i) => {
    const tokens = item.imageTokens!;
    return tokens.length === perItem && tokens.buffer === first.buffer && tokens.byteOffset === first.byteOffset + i * perItem * Float32Array.BYTES_PER_ELEMENT;
  });
  if (adjacent) return new Float32Array(first.buffer, first.byteOffset, items.length * perItem);
  const image = new Float32Array(items.length * perItem);
  items.forEach((item, i) => image.set(item.imageTokens!, i * perItem));
  return image;
}
