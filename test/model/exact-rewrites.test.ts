/**
 * The text graph's exact rewrites give the same bits as the literal graph (every layer for every
 * token, plain attention written as eager BERT: scores / √d, mask always added): the production
 * graph (last layer for CLS only, the mask added only when it masks a key), attention in blocks of
 * query rows (an ONNX Loop, used by models whose sequences can outgrow one block, e.g. bge-m3 at
 * 8192 tokens) forced on the tiny models with 2- and 3-row blocks, and q scaled by 1/√d before the
 * product when √d is a power of two (the published models' d = 64; forced here by viewing the tiny
 * models' widths as heads of 16). Every recorded case — text, image, composed, padded batches —
 * must match the literal graph bit for bit, and upstream within the embedding tolerance (for the
 * models as recorded; a different head count is a different model).
 */
import type * as Ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { attentionBlockRows } from '../../src/model/bert.js';
import { exactQueryScale } from '../../src/model/layers.js';
import { buildTextGraph, buildVisionGraph, composedPositions, imageTokenCount, textOnlyPositions } from '../../src/model/visualized-bge.js';
import { decodeModel, serializeModel } from '../../src/onnx/serialize.js';
import { createSession, ort } from '../../src/runtime/session.js';
import type { BatchCase, FixtureSet, SingleCase } from '../helpers/fixtures.js';
import { recordedPixels } from '../helpers/graph-runner.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';
import { TOL, maxAbsDiff } from '../helpers/tolerances.js';

const bytes = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

test('published sizes: bge-base (512 positions) keeps plain attention, bge-m3 (8194) runs 512-row blocks', () => {
  const cfg = loadFixtureModel('tiny-xlmr').config.text;
  expect(attentionBlockRows({ ...cfg, maxPositions: 512 })).toBeUndefined();
  expect(attentionBlockRows({ ...cfg, maxPositions: 1024 })).toBeUndefined();
  expect(attentionBlockRows({ ...cfg, maxPositions: 8194 })).toBe(512);
  expect(attentionBlockRows({ ...cfg, maxPositions: 8194 }, { attentionBlockRows: 0 })).toBeUndefined();
});

test('q is scaled before the product exactly when 1/√d is a power of two', () => {
  expect([4, 8, 12, 16, 32, 64, 128, 256].map(exactQueryScale)).toEqual([0.5, undefined, undefined, 0.25, undefined, 0.125, undefined, 0.0625]);
});

describe.each([
  ['tiny-bert', undefined, undefined],
  ['tiny-bert', 2, undefined],
  ['tiny-bert', 3, undefined],
  ['tiny-xlmr', undefined, undefined],
  ['tiny-xlmr', 2, undefined],
  ['tiny-xlmr', 3, undefined],
  ['tiny-bert', undefined, 2],
  ['tiny-bert', 3, 2],
  ['tiny-xlmr', undefined, 3],
  ['tiny-xlmr', 2, 3],
] as [FixtureSet, number | undefined, number | undefined][])('%s, production graph with attention blocks of %s rows, %s heads', (set, rows, heads) => {
  const model = loadFixtureModel(set);
  const cfg = heads === undefined ? model.config : { ...model.config, text: { ...model.config.text, numHeads: heads } };
  const asRecorded = heads === undefined;
  let vision: Ort.InferenceSession;
  let plain: Ort.InferenceSession;
  let blocked: Ort.InferenceSession;
  beforeAll(async () => {
    const blockedGraph = serializeModel(buildTextGraph(model.weights, cfg, rows === undefined ? {} : { attentionBlockRows: rows }));
    // Every layer but the last (CLS and one more row only) runs in blocks.
    expect(decodeModel(blockedGraph).graph!.node!.filter((n) => n.opType === 'Loop')).toHaveLength(rows === undefined ? 0 : cfg.text.numLayers - 1);
    vision = await createSession(serializeModel(buildVisionGraph(model.weights, cfg)), { threads: 2 });
    plain = await createSession(serializeModel(buildTextGraph(model.weights, cfg, { fullLastLayer: true, attentionBlockRows: 0, literalAttention: true })), { threads: 2 });
    blocked = await createSession(blockedGraph, { threads: 2 });
  });
  afterAll(async () => {
    for (const s of [vision, plain, blocked]) await s.release();
  });

  async function both(ids: number[][], mask: number[][], image?: string): Promise<[Float32Array, Float32Array]> {
    const b = ids.length;
    const t = ids[0]!.length;
    const n = image ? imageTokenCount(cfg) : 0;
    let tokens: Float32Array = new Float32Array(0);
    if (image) {
      const pixels = recordedPixels(image);
      const all = new Float32Array(b * pixels.length);
      for (let i = 0; i < b; i++) all.set(pixels, i * pixels.length);
      tokens = (await vision.run({ pixel_values: new ort.Tensor('float32', all, [b, 3, 224, 224]) }))['image_tokens']!.data as Float32Array;
    }
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flat(), BigInt), [b, t]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.flatMap((row) => (image ? composedPositions(cfg, t) : textOnlyPositions(cfg.text, row))), BigInt), [b, t]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.flatMap((row) => [...new Array<number>(n).fill(1), ...row]), BigInt), [b, n + t]),
      image_tokens: new ort.Tensor('float32', tokens, [b, n, cfg.text.hiddenSize]),
    };
    const a = (await plain.run(feeds))['embedding']!.data as Float32Array;
    const c = (await blocked.run(feeds))['embedding']!.data as Float32Array;
    return [a, c];
  }

  const singles = model.cases.cases.filter((c): c is SingleCase => !c.batch);
  test.each(singles.map((c) => [c.id, c] as const))('case %s: same bits as the literal graph, and matches upstream', async (_id, c) => {
    const [a, b] = await both([c.input_ids], [c.attention_mask], c.kind === 'text' ? undefined : (c.image ?? undefined));
    expect(bytes(b).equals(bytes(a))).toBe(true);
    if (asRecorded) expect(maxAbsDiff(b, c.embedding)).toBeLessThanOrEqual(TOL.embedding);
  });

  const batches = model.cases.cases.filter((c): c is BatchCase => c.batch === true && c.kind === 'text');
  test.each(batches.map((c) => [c.id, c] as const))('padded batch %s: same bits as the literal graph', async (_id, c) => {
    const [a, b] = await both(c.input_ids, c.attention_mask);
    expect(bytes(b).equals(bytes(a))).toBe(true);
  });
});
