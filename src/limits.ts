/**
 * Every limit the library enforces, in one place (the README's "Limits" section mirrors this).
 * Model-dependent token limits are derived from the model config at load time; see
 * `model/visualized-bge.ts` (`textTokenLimit`).
 */
export const LIMITS = {
  /** Largest encoded image file we read, in bytes. */
  maxImageFileBytes: 64 * 1024 * 1024,
  /** Largest decoded image, in pixels (width × height): guards against decompression bombs. */
  maxImagePixels: 50_000_000,
  /** Largest side of a decoded image, in pixels. */
  maxImageSide: 32_768,
  /** Longest time libvips may spend decoding one image, in seconds (guards against pathological files). */
  imageDecodeTimeoutSeconds: 30,
  /** Longest line of a JSONL input file, in bytes. */
  maxJsonlLineBytes: 1024 * 1024,
  /** Most ONNX Runtime intra-op threads (and image workers) a model may be loaded with. */
  maxThreads: 256,
  /** Most inputs in one forward pass. */
  maxBatchSize: 1024,
} as const;

export type Limits = typeof LIMITS;
