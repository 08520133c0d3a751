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
import { writeGraphs } from '../../src/load/graph-files.js';
import { GRAPH_BUILDER_VERSION } from '../../src/runtime/provenance.js';
import type { FixtureSet } from '../helpers/fixtures.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';

const PINNED: Record<string, Partial<Record<FixtureSet, string>>> = {
  'vbge-graphs/3': {
    'tiny-bert': '3a81910e1a314058fd0c4c8b13a116fc5ccda09a9db449aaf80a4d68a410d472',
    'tiny-xlmr': '150b7412a462e8dd83e35de572ba600e18bdbf3353ab0f463e6ec5d6829f9b18',
    'tiny-bert-fp16': '97e521792bda4fe0e2002a0005e16027bdc498631c3a8af3676574594d7bc7d7',
  },
  // Attention in query-row blocks for models with > 1024 positions (bge-m3): the tiny models'
  // graphs differ only in the builder version in their metadata; m3's changed, bit for bit the
  // same results (test/model/blocked-attention.test.ts).
  'vbge-graphs/4': {
    'tiny-bert': '77c691e8f04e142daba87b3b72a8727299e82623ab18ab1286751df80d2f9eee',
    'tiny-xlmr': 'b642ca276e79a9e5a43439fbf81eff17ad19d249ddf1c086a40a6abdaa0e6b2a',
    'tiny-bert-fp16': '95424c0f4d7e7b72f876597ce806c04b83e51fa24bdbf18a8bee599d9fdc7ac5',
  },
  // The last text layer for CLS only (and one more row); each small constant one initializer;
  // bit for bit the same results (test/model/exact-rewrites.test.ts).
  'vbge-graphs/5': {
    'tiny-bert': '69a1d907abd29f00d3b550a34cf336dc61f525649670ad40004dd7bf97e82c55',
    'tiny-xlmr': '5e1ba5c2921fdbddc67512c9ef7bd8a08135390ab257575066ebd893440bcc2d',
    'tiny-bert-fp16': 'fbb0d8482f4da90cf5cf7d9a8e9505ba52faf4bbb997403c59d670b12720eefb',
  },
  // The text attention adds its mask only when the mask masks a key (an If), and scales q by 1/√d
  // before the product when √d is a power of two; the vision tower folds its 1/√d into the query's
  // RoPE tables when it is a power of two. Bit for bit the same results
  // (test/model/exact-rewrites.test.ts; the canaries of `vbge verify`).
  'vbge-graphs/6': {
    'tiny-bert': '2fb3d652fd602280c5a0c48ea0419672b613c7a71ba314f913019cbe2f7eee96',
    'tiny-xlmr': '2818dcf5be69002e7bd0167174b65ede9c9932b37c8681e0b6a66e906585105f',
    'tiny-bert-fp16': 'a66e9bd8fc73b283733c7965e25de39c4d35cc008b6e5fac199b3cb2591f342c',
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
