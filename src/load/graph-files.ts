/** The two ONNX graphs of a model as files (cache entries and exports), and the probe inputs that check them. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightMap } from '../checkpoint/weight-map.js';
import { numPatches } from '../model/eva-config.js';
import { type VisualizedBgeConfig, buildTextGraph, buildVisionGraph } from '../model/visualized-bge.js';
import { serializeModel } from '../onnx/serialize.js';
import type { ProbeFeeds } from '../runtime/probe-feeds.js';
import { GRAPH_BUILDER_VERSION } from '../runtime/provenance.js';
import { makeDirs } from '../util/fs.js';

/**
 * Writes both graphs into `dir` (created), weights as external data next to each model, and
 * `manifest` as manifest.json.
 */
export function writeGraphs(dir: string, weights: WeightMap, config: VisualizedBgeConfig, manifest: object): void {
  makeDirs(dir);
  for (const [name, build] of [
    ['vision', buildVisionGraph],
    ['text', buildTextGraph],
  ] as const) {
    const model = serializeModel(build(weights, config), {
      externalThresholdBytes: 1024,
      externalData: { location: `${name}.onnx.data`, path: join(dir, `${name}.onnx.data`) },
      metadata: { builder: GRAPH_BUILDER_VERSION },
    });
    writeFileSync(join(dir, `${name}.onnx`), model);
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Small fixed inputs that exercise every node of each graph (batch 2). */
export function probeFeeds(config: VisualizedBgeConfig): ProbeFeeds {
  const pixels = Array.from({ length: 2 * 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.37));
  const n = numPatches(config.vision);
  const w = config.text.hiddenSize;
  const t = 3;
  return {
    vision: { pixel_values: { type: 'float32', dims: [2, 3, 224, 224], data: pixels } },
    text: {
      input_ids: { type: 'int64', dims: [2, t], data: [0, 1, 2, 0, 2, 1] },
      position_ids: { type: 'int64', dims: [2, t], data: [0, n + 1, n + 2, 0, n + 1, n + 2] },
      attention_mask: { type: 'int64', dims: [2, n + t], data: new Array<number>(2 * (n + t)).fill(1) },
      image_tokens: { type: 'float32', dims: [2, n, w], data: Array.from({ length: 2 * n * w }, (_, i) => Math.cos(i * 0.11)) },
    },
  };
}
