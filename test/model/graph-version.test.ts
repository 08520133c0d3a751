/**
 * The converted-graph cache trusts GRAPH_BUILDER_VERSION: graphs built by a changed builder must
 * not be served from an old cache entry. This pins the graph bytes for each builder version —
 * when it fails, bump GRAPH_BUILDER_VERSION and record the new hashes here.
 */
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { buildTextGraph, buildVisionGraph } from '../../src/model/visualized-bge.js';
import { serializeModel } from '../../src/onnx/serialize.js';
import { GRAPH_BUILDER_VERSION } from '../../src/runtime/provenance.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';

const PINNED: Record<string, Record<string, string>> = {
  'vbge-graphs/2': {
    'tiny-bert': '7f142f68341bd28f5fd43df5d46333558f768cc40b140035ed60167fce0ac502',
    'tiny-xlmr': '597cacc0990a2fc8de537492483f4b40db510531a015d9bf5fc7d3fc6690080d',
  },
};

test.each(['tiny-bert', 'tiny-xlmr'] as const)('%s graph bytes are the ones pinned for the builder version', (set) => {
  const m = loadFixtureModel(set);
  const h = createHash('sha256');
  h.update(serializeModel(buildVisionGraph(m.weights, m.config)));
  h.update(serializeModel(buildTextGraph(m.weights, m.config)));
  expect(PINNED[GRAPH_BUILDER_VERSION], `no hashes pinned for ${GRAPH_BUILDER_VERSION}`).toBeDefined();
  expect(h.digest('hex'), `graphs changed: bump GRAPH_BUILDER_VERSION (now ${GRAPH_BUILDER_VERSION})`).toBe(PINNED[GRAPH_BUILDER_VERSION]![set]);
});
