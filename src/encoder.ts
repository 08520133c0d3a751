/**
 * The public API: load a Visualized BGE checkpoint, then embed texts, images and image+text
 * pairs into one vector space.
 *
 *   const encoder = await Encoder.load({ weights: 'Visualized_base_en_v1.5.pth', textModel: 'bge-base-en-v1.5/' });
 *   const [a, b] = await encoder.encode([{ text: 'a dog' }, { image: 'dog.jpg', text: 'make it white' }]);
 */
import { ConfigError, InputError, VbgeError } from './errors.js';
import { ImagePreprocessPool } from './image/pool.js';
import { preprocessImage } from './image/preprocess.js';
import { LIMITS } from './limits.js';
import { type GraphSource, type ModelSources, type PublishedModel, loadModel, openSessions, tokenizerCacheDir } from './load/load-model.js';
import { modelProvenance } from './load/provenance.js';
import { type VisualizedBgeConfig, embeddingDim, textTokenLimit } from './model/visualized-bge.js';
import { ModelRunner, PIXELS_PER_IMAGE, type StageTimer } from './runtime/model-runner.js';
import { type Provenance, runtimeProvenance } from './runtime/provenance.js';
import { planTextBatches, planVisionBatches, type TextWorkItem } from './runtime/scheduler.js';
import { defaultThreads } from './runtime/session.js';
import { TextTokenizer } from './text/tokenizer.js';

export type { GraphSource };

/** An image as a file path, encoded file bytes, or an already preprocessed [3, 224, 224] tensor. */
export type ImageInput = string | Uint8Array | { readonly pixels: Float32Array };

export interface EncodeInput {
  readonly text?: string;
  readonly image?: ImageInput;
  /** How errors name this input (default: "input <index>"). */
  readonly name?: string;
}

export interface EncodeOptions {
  /** Cut over-long texts instead of failing (the default is a LimitError naming the input). */
  readonly truncate?: boolean;
  /** Most inputs per forward pass. Never changes a result. */
  readonly batchSize?: number;
}

export interface EncoderLoadOptions {
  /**
   * A published model from the Hugging Face hub, resolved through the HF cache and downloaded
   * when missing (unless HF_HUB_OFFLINE=1): `base` or `m3`. Instead of `weights` + `textModel`.
   */
  readonly model?: PublishedModel;
  /** A Visualized BGE checkpoint (`Visualized_base_en_v1.5.pth`, `Visualized_m3.pth`, or alike). */
  readonly weights?: string;
  /** The BGE text model folder: config.json and tokenizer files (default for `onnx`: its tokenizer/ folder). */
  readonly textModel?: string;
  /** An EVA02-CLIP config JSON; needed only for checkpoints other than the two published ones. */
  readonly visionConfig?: string;
  /** Take the text tower's weights from this HF folder or weights file instead of the checkpoint. */
  readonly textWeights?: string;
  /** A folder written by `vbge export --onnx`, instead of `weights`. */
  readonly onnx?: string;
  /** Where converted graphs are cached (default: see `defaultCacheDir`); false builds them in memory every time. */
  readonly graphCache?: string | false;
  /** ONNX Runtime intra-op threads (default: all cores). Never changes a result. */
  readonly threads?: number;
  /** Default batch size for `encode` (default 8). */
  readonly batchSize?: number;
  /** Image preprocessing workers (default 1; 0 preprocesses on the calling thread). */
  readonly imageWorkers?: number;
  /** Apply EXIF orientation to images (diverges from upstream, which ignores it). */
  readonly applyExifOrientation?: boolean;
  /**
   * Open the text tower only: texts embed exactly as with both towers, and an input with an
   * image fails with an InputError. Loading skips the vision tower's session (about half of a
   * cached load), which is what a text search needs.
   */
  readonly textOnly?: boolean;
  /** Called with the time spent in each graph, for benchmarks. */
  readonly onStage?: StageTimer;
}

export type EncodeResult = { readonly ok: true; readonly embedding: Float32Array } | { readonly ok: false; readonly error: VbgeError };

interface Prepared {
  /** How errors name this input. */
  name: string;
  ids?: number[];
  /**
   * Preprocesses the image, once, when its vision batch is about to run: never while inference
   * runs, because decoding on a core the ONNX Runtime threads use stalls both (bench: bulk
   * images 12–15 % slower with decoding overlapped than with it done between runs).
   */
  pixels?: () => Promise<Float32Array>;
  error?: VbgeError;
}

export class Encoder {
  private constructor(
    readonly config: VisualizedBgeConfig,
    readonly tokenizer: TextTokenizer,
    private readonly runner: ModelRunner,
    private readonly pool: ImagePreprocessPool | undefined,
    private readonly options: EncoderLoadOptions,
    private readonly sources: ModelSources,
    /** Where the graphs came from: built in memory, built and cached, found in the cache, or an exported folder. */
    readonly graphSource: GraphSource,
  ) {}

  static async load(options: EncoderLoadOptions): Promise<Encoder> {
    const threads = options.threads ?? defaultThreads();
    checkCount('threads', threads, 1, LIMITS.maxThreads);
    checkCount('imageWorkers', options.imageWorkers ?? 1, 0, LIMITS.maxThreads);
    if (options.batchSize !== undefined) checkCount('batchSize', options.batchSize, 1, LIMITS.maxBatchSize);
    const loaded = await loadModel(options);
    // An exported folder's own tokenizer unless the caller names another one.
    const textModel = options.textModel ?? loaded.tokenizerDir;
    // The sessions open (the vision tower's in a worker thread) while the tokenizer loads.
    const opening = openSessions(loaded, threads, !options.textOnly);
    opening.catch(() => undefined); // awaited below, on success and on failure
    let tokenizer: TextTokenizer;
    try {
      // Parsed tokenizers are cached beside the graphs (bge-m3's tokenizer.json alone takes 0.3–0.5 s to parse).
      tokenizer = await TextTokenizer.fromDir(textModel, { cacheDir: tokenizerCacheDir(options.graphCache) });
      if (tokenizer.kind !== loaded.config.text.modelType)
        throw new ConfigError(`${textModel}: the tokenizer is ${tokenizer.kind} but the model's text tower is ${loaded.config.text.modelType}`);
    } catch (err) {
      const opened = await opening.catch(() => undefined);
      await opened?.sessions.vision?.release();
      await opened?.sessions.text.release();
      throw err;
    }
    const { model, sessions } = await opening;
    const workers = options.imageWorkers ?? 1;
    const pool = workers > 0 && !options.textOnly ? new ImagePreprocessPool({ workers }) : undefined;
    const runner = new ModelRunner(model.config, sessions.vision, sessions.text, options.onStage);
    return new Encoder(model.config, tokenizer, runner, pool, options, model.sources, model.graphSource);
  }

  private provenanceRecord?: Promise<Provenance>;

  /** What these embeddings depend on (hashes of the model files, versions, CPU dispatch path). */
  provenance(): Promise<Provenance> {
    this.provenanceRecord ??= (async (): Promise<Provenance> => {
      let record: Provenance;
      if (this.sources.provenance) record = { ...this.sources.provenance, ...runtimeProvenance() };
      else record = await modelProvenance(this.sources.files, this.config, this.tokenizer.fingerprint, this.sources);
      // Applying EXIF orientation changes image vectors: it is part of the preprocessing they depend on.
      return this.options.applyExifOrientation ? { ...record, preprocessing: `${record.preprocessing}+exif-orientation` } : record;
    })();
    return this.provenanceRecord;
  }

  /** Length of every embedding. */
  get dim(): number {
    return embeddingDim(this.config);
  }

  /** Most tokens (CLS and SEP included) a text may have, alone or beside an image. */
  tokenLimit(withImage: boolean): number {
    return textTokenLimit(this.config, withImage);
  }

  /** Embeds every input; the first bad input rejects the whole call with its typed error. */
  async encode(inputs: readonly EncodeInput[], options: EncodeOptions = {}): Promise<Float32Array[]> {
    const results = await this.encodeSettled(inputs, options);
    return results.map((r) => {
      if (!r.ok) throw r.error;
      return r.embedding;
    });
  }

  /**
   * Embeds every good input and reports each bad one, in input order; one bad input never costs
   * the others. Inputs are processed in windows, so memory stays bounded for any input count.
   */
  async encodeSettled(inputs: readonly EncodeInput[], options: EncodeOptions = {}): Promise<EncodeResult[]> {
    const batchSize = options.batchSize ?? this.options.batchSize ?? 8;
    checkCount('batch size', batchSize, 1, LIMITS.maxBatchSize);
    const window = Math.min(Math.max(WINDOW_INPUTS, 4 * batchSize), Math.max(MAX_WINDOW_INPUTS, batchSize));
    const results: EncodeResult[] = new Array(inputs.length);
    for (let start = 0; start < inputs.length; start += window) {
      const prepared = inputs.slice(start, start + window).map((input, k) => this.prepare(input, start + k, options));
      const settled = await this.runWindow(prepared, batchSize);
      settled.forEach((r, k) => (results[start + k] = r));
    }
    return results;
  }

  /** Both stages over prepared inputs: vision in equal-shape batches, then text grouped by exact shape. */
  private async runWindow(prepared: readonly Prepared[], batchSize: number): Promise<EncodeResult[]> {
    const results: (EncodeResult | undefined)[] = prepared.map((p) => (p.error ? { ok: false, error: p.error } : undefined));
    const fail = (i: number, err: unknown): void => {
      // Every per-input failure names its input, whatever layer it came from.
      const name = prepared[i]!.name;
      results[i] = {
        ok: false,
        error: err instanceof InputError ? err : new InputError(name, err instanceof Error ? err.message : String(err), { cause: err }),
      };
    };

    const imageTokens = new Map<number, Float32Array>();
    const withImage = prepared.flatMap((p, i) => (p.pixels && !p.error ? [i] : []));
    for (const batch of planVisionBatches(withImage, batchSize)) {
      // The whole batch at once: every preprocessing worker busy while inference waits.
      const pixels = await Promise.allSettled(batch.map((i) => prepared[i]!.pixels!()));
      const ready: { index: number; pixels: Float32Array }[] = [];
      pixels.forEach((p, k) => {
        if (p.status === 'fulfilled') ready.push({ index: batch[k]!, pixels: p.value });
        else fail(batch[k]!, p.reason);
      });
      if (ready.length === 0) continue;
      const tokens = await this.runner.runVision(ready.map((r) => r.pixels));
      ready.forEach((r, k) => imageTokens.set(r.index, tokens[k]!));
    }

    const work: TextWorkItem[] = [];
    prepared.forEach((p, i) => {
      if (results[i] || !p.ids) return;
      if (p.pixels && !imageTokens.has(i)) return;
      work.push({ index: i, tokenCount: p.ids.length, withImage: p.pixels !== undefined });
    });
    for (const batch of planTextBatches(work, batchSize)) {
      const embeddings = await this.runner.runText(batch.map((item) => ({ ids: prepared[item.index]!.ids!, imageTokens: imageTokens.get(item.index) })));
      batch.forEach((item, k) => (results[item.index] = { ok: true, embedding: embeddings[k]! }));
    }
    return results.map((r, i) => r ?? { ok: false, error: new InputError(prepared[i]!.name, 'was not embedded') });
  }

  private prepare(input: EncodeInput, index: number, options: EncodeOptions): Prepared {
    const name = nameOf(input, index);
    try {
      if (input === null || typeof input !== 'object') throw new InputError(name, 'must be an object with "text" and/or "image"');
      const hasImage = input.image !== undefined && input.image !== null;
      if (input.text === undefined && !hasImage) throw new InputError(name, 'has neither "text" nor "image"');
      if (input.text !== undefined && typeof input.text !== 'string') throw new InputError(name, '"text" must be a string');
      if (hasImage && this.options.textOnly) throw new InputError(name, 'has an image, but this encoder was loaded with textOnly (no vision tower)');
      // An image alone is upstream's encode_image: the empty prompt [CLS][SEP].
      const ids = this.tokenizer.encode(input.text ?? '', {
        maxTokens: textTokenLimit(this.config, hasImage),
        truncate: options.truncate ?? false,
        inputName: `${name} (text)`,
      });
      return { name, ids, pixels: hasImage ? this.pixelsOf(input.image!, name) : undefined };
    } catch (err) {
      return { name, error: err instanceof InputError ? err : new InputError(name, err instanceof Error ? err.message : String(err), { cause: err }) };
    }
  }

  /** What can be checked at once throws here (so `prepare` records it); the rest waits for the vision stage. */
  private pixelsOf(image: ImageInput, name: string): () => Promise<Float32Array> {
    if (typeof image === 'object' && image !== null && !(image instanceof Uint8Array)) {
      const pixels = image.pixels;
      if (!(pixels instanceof Float32Array) || pixels.length !== PIXELS_PER_IMAGE)
        throw new InputError(`${name} (image)`, `preprocessed pixels must be a Float32Array of ${PIXELS_PER_IMAGE} values [3, 224, 224]`);
      return () => Promise.resolve(pixels);
    }
    if (typeof image !== 'string' && !(image instanceof Uint8Array)) throw new InputError(`${name} (image)`, 'must be a file path, file bytes or { pixels }');
    const opts = {
      applyExifOrientation: this.options.applyExifOrientation ?? false,
      inputName: `${name} (image${typeof image === 'string' ? ` ${image}` : ''})`,
    };
    return async () => (await (this.pool ? this.pool.run(image, opts) : preprocessImage(image, opts))).pixels;
  }

  /** Releases the ONNX Runtime sessions and preprocessing workers. */
  async close(): Promise<void> {
    await this.runner.release();
    await this.pool?.close();
  }
}

function nameOf(input: EncodeInput, index: number): string {
  return input && typeof input === 'object' && typeof input.name === 'string' ? input.name : `input ${index}`;
}

/** Inputs per window of `encodeSettled`: bounds the pixels and image tokens held at once. */
const WINDOW_INPUTS = 64;
/** Largest window unless one batch is larger: about 150 MB of pixels and image tokens (base). */
const MAX_WINDOW_INPUTS = 256;

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got ${value}`);
  if (value > max) throw new ConfigError(`${name} is ${value}, the limit is ${max}`);
}
