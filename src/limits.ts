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

  // The server (`vbge serve`); each can be lowered or raised with a `vbge serve` option.
  /** Largest request body, in bytes (413 beyond): room for a few base64 images. */
  maxRequestBodyBytes: 32 * 1024 * 1024,
  /** Most inputs in one /v1/embeddings request. */
  maxItemsPerRequest: 256,
  /** Most inputs admitted at once (being fetched, queued or embedded); beyond it, 429 + Retry-After. */
  maxQueuedItems: 512,
  /** Longest a request may take from arrival to answer, in seconds. */
  requestTimeoutSeconds: 120,
  /** Most results one /v1/search request may ask for (k + offset). */
  maxSearchResults: 1000,
  /** Longest a graceful shutdown waits for requests in flight, in seconds. */
  shutdownGraceSeconds: 30,
  /** Largest image fetched from an image URL (when image URLs are enabled), in bytes. */
  maxImageUrlBytes: 16 * 1024 * 1024,
  /** Longest an image URL fetch may take (connect, redirects and body), in seconds. */
  imageUrlTimeoutSeconds: 10,
  /** Most redirects followed for one image URL (same host only). */
  maxImageUrlRedirects: 3,
} as const;

export type Limits = typeof LIMITS;
