/** The one builder of a model's provenance record (the encoder's and the export manifest's). */
import { sha256File, textWeightsFile } from '../checkpoint/load.js';
import { PREPROCESS_VERSION } from '../image/preprocess.js';
import { type VisualizedBgeConfig, embeddingDim } from '../model/visualized-bge.js';
import { type Provenance, canonicalSha256, runtimeProvenance } from '../runtime/provenance.js';
import { describeVisionConfig, type ModelFileOptions } from './model-files.js';

/** Checksums already computed (the graph cache remembers them), so they are not hashed twice. */
export interface KnownChecksums {
  readonly checkpointSha256?: string;
  readonly textWeightsSha256?: string | null;
}

export async function modelProvenance(
  files: Pick<ModelFileOptions, 'weights' | 'textWeights' | 'visionConfig'>,
  config: VisualizedBgeConfig,
  tokenizerSha256: string,
  known: KnownChecksums = {},
): Promise<Provenance> {
  const textWeightsSha256 =
    known.textWeightsSha256 !== undefined ? known.textWeightsSha256 : files.textWeights ? await sha256File(textWeightsFile(files.textWeights)) : null;
  return {
    ...runtimeProvenance(),
    checkpointSha256: known.checkpointSha256 ?? (await sha256File(files.weights)),
    textWeightsSha256,
    tokenizerSha256,
    visionConfig: describeVisionConfig(config, files.visionConfig === undefined ? undefined : await sha256File(files.visionConfig)),
    modelConfigSha256: canonicalSha256(config),
    preprocessing: PREPROCESS_VERSION,
    dim: embeddingDim(config),
  };
}
