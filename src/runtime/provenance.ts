/**
 * What an embedding depends on. Two vectors are comparable bit for bit only when their
 * provenance records are equal; stores keep the record's id beside every vector.
 */
import { canonicalSha256 } from '../util/canonical-json.js';
import { cpuInstructionSet } from './cpu.js';
import { GRAPH_OPTIMIZATION_LEVEL, ORT_VERSION } from './session.js';

/** Bump when the graphs built from a checkpoint change (it keys the graph cache), whether or not a bit of their results does. */
export const GRAPH_BUILDER_VERSION = 'vbge-graphs/6';
export const LIBRARY_VERSION = 'visualized-bge@0.1.0';

export interface Provenance {
  readonly library: string;
  readonly checkpointSha256: string;
  /** sha256 of the text-tower weights file when they replaced the checkpoint's (`textWeights`). */
  readonly textWeightsSha256: string | null;
  readonly tokenizerSha256: string;
  /** `builtin:EVA02-CLIP-B-16`-style name, or the sha256 of the config JSON given. */
  readonly visionConfig: string;
  /** sha256 of the resolved model configuration (text tower config included). */
  readonly modelConfigSha256: string;
  readonly preprocessing: string;
  readonly graphBuilder: string;
  readonly onnxruntime: string;
  readonly graphOptimizationLevel: string;
  readonly cpuInstructionSet: string;
  readonly dim: number;
}

export function runtimeProvenance(): Pick<Provenance, 'library' | 'graphBuilder' | 'onnxruntime' | 'graphOptimizationLevel' | 'cpuInstructionSet'> {
  return {
    library: LIBRARY_VERSION,
    graphBuilder: GRAPH_BUILDER_VERSION,
    onnxruntime: ORT_VERSION,
    graphOptimizationLevel: GRAPH_OPTIMIZATION_LEVEL,
    cpuInstructionSet: cpuInstructionSet(),
  };
}

/** sha256 of a configuration object's canonical JSON: the one canonical form, shared with the index. */
export { canonicalSha256 };

/** A short stable id of a provenance record (sha256 of its canonical JSON, 16 hex digits). */
export function provenanceId(p: Provenance): string {
  return canonicalSha256(p).slice(0, 16);
}
