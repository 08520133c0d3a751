/**
 * What an embedding depends on. Two vectors are comparable bit for bit only when their
 * provenance records are equal; stores keep the record's id beside every vector.
 */
import { createHash } from 'node:crypto';
import { cpuInstructionSet, cpuModel } from './cpu.js';
import { GRAPH_OPTIMIZATION_LEVEL, ORT_VERSION } from './session.js';

/** Bump when the graphs built from a checkpoint could compute any bit differently. */
export const GRAPH_BUILDER_VERSION = 'vbge-graphs/2';
export const LIBRARY_VERSION = 'visualized-bge@0.1.0';

export interface Provenance {
  readonly library: string;
  readonly checkpointSha256: string;
  /** sha256 of the text-tower weights file when they replaced the checkpoint's (`textWeights`). */
  readonly textWeightsSha256: string | null;
  readonly tokenizerSha256: string;
  /** `builtin:EVA02-CLIP-B-16`-style name, or the sha256 of the config JSON given. */
  readonly visionConfig: string;
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

/** A short stable id of a provenance record (sha256 of its canonical JSON, 16 hex digits). */
export function provenanceId(p: Provenance): string {
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(p).sort(([a], [b]) => a.localeCompare(b))));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export { cpuModel };
