/**
 * The converted-graph cache trusts GRAPH_BUILDER_VERSION: graphs built by a changed builder must
 * not be served from an old cache entry. This pins the bytes the cache would store (models and
 * external weight data, fp16 widening included) for each builder version — when it fails, bump
 * GRAPH_BUILDER_VERSION and record the new hashes here.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { writeGraphs } from '../../src/runtime/graph-cache.js';
import { GRAPH_BUILDER_VERSION } from '../../src/runtime/provenance.js';
import type { FixtureSet } from '../helpers/fixtures.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';

const PINNED: Record<string, Partial<Record<FixtureSet, string>>> = {
  'vbge-graphs/2': {
    'tiny-bert': '106561a4cfc4f063906a945f636210c295cd3dc9b7fc4ee3267b5a7ee4f5a663',
    'tiny-xlmr': '6372325694612eec3b6f49dddd0fd7dec077189f8fe3f673df9efdd654cc53ae',
    'tiny-bert-fp16': '95d0539c84e6c6c94dfaa50aea2c2586be7effc44486d3a94d870c2ab7a43bd2',
  },
};

test.each(['tiny-bert', 'tiny-xlmr', 'tiny-bert-fp16'] as const)('%s cached graph bytes are the ones pinned for the builder version', (set) => {
  const m = loadFixtureModel(set);
  const dir = mkdtempSync(join(tmpdir(), 'vbge-graph-version-'));
  writeGraphs(dir, m.weights, m.config, {});
  const h = createHash('sha256');
  for (const f of ['vision.onnx', 'vision.onnx.data', 'text.onnx', 'text.onnx.data']) h.update(readFileSync(join(dir, f)));
  const digest = h.digest('hex');
  expect(PINNED[GRAPH_BUILDER_VERSION], `no hashes pinned for ${GRAPH_BUILDER_VERSION}`).toBeDefined();
  expect(digest, `graphs changed: bump GRAPH_BUILDER_VERSION (now ${GRAPH_BUILDER_VERSION})`).toBe(PINNED[GRAPH_BUILDER_VERSION]![set]);
});
