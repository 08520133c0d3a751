/** visualized-bge: the public library API. */
export { Encoder, type EncodeInput, type EncodeOptions, type EncodeResult, type EncoderLoadOptions, type GraphSource, type ImageInput } from './encoder.js';
export { CheckpointError, ConfigError, InputError, LimitError, VbgeError } from './errors.js';
export { LIMITS } from './limits.js';
export { type Provenance, provenanceId } from './runtime/provenance.js';
export { verifyEncoder, type VerifyReport } from './verify.js';
export { exportOnnx, type ExportManifest } from './load/export.js';
export { Index, type IndexOpenOptions, type AddOptions } from './index/index.js';
export type { IndexItem, Query, SearchOptions, SearchHit, IndexStats, Reject, Metadata } from './index/types.js';
export { resolvePublishedModel, PUBLISHED, type PublishedModel } from './hub/published.js';
