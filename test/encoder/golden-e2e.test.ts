/**
 * End to end through the public API, from the image files and raw texts: every case of the
 * three fixture sets, one call per case and all cases in one batched call.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encoder, type EncodeInput } from '../../src/encoder.js';
import { type BatchCase, type FixtureSet, type SingleCase, fixturePath, loadCases } from '../helpers/fixtures.js';
import { recordedPixels } from '../helpers/graph-runner.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { TOL, maxAbsDiff } from '../helpers/tolerances.js';

const SETS: FixtureSet[] = ['tiny-bert', 'tiny-xlmr', 'tiny-bert-fp16'];

describe.each(SETS)('%s through Encoder', (set) => {
  const cases = loadCases(set);
  const singles = cases.cases.filter((c): c is SingleCase => !c.batch);
  const batches = cases.cases.filter((c): c is BatchCase => c.batch === true);
  const toInput = (c: SingleCase): EncodeInput => ({
    ...(c.kind !== 'image' ? { text: c.text ?? '' } : {}),
    ...(c.image ? { image: fixturePath(set, c.image) } : {}),
    name: c.id,
  });
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await Encoder.load({ ...fixtureModelFiles(set), threads: 2 });
  });
  afterAll(async () => encoder.close());

  test.each(singles.map((c) => [c.id, c] as const))('%s from the file, alone', async (_id, c) => {
    const [embedding] = await encoder.encode([toInput(c)]);
    expect(embedding!.length).toBe(cases.embedding_dim);
    expect(maxAbsDiff(embedding!, c.embedding)).toBeLessThanOrEqual(TOL.embedding);
  });

  test('all single cases in one batched call', async () => {
    const got = await encoder.encode(singles.map(toInput), { batchSize: 8 });
    singles.forEach((c, i) => expect(maxAbsDiff(got[i]!, c.embedding), c.id).toBeLessThanOrEqual(TOL.embedding));
  });

  test.each(batches.map((c) => [c.id, c] as const))('upstream batch %s, row by row', async (_id, c) => {
    const texts = (c['texts'] as (string | null)[] | undefined) ?? [];
    const images = (c['images'] as string[] | undefined) ?? [];
    const n = Math.max(texts.length, images.length);
    const inputs: EncodeInput[] = Array.from({ length: n }, (_, i) => ({
      ...(c.kind !== 'image' ? { text: texts[i] ?? '' } : {}),
      ...(images[i] ? { image: fixturePath(set, images[i]!) } : {}),
    }));
    const got = await encoder.encode(inputs, { batchSize: 16 });
    c.embeddings.forEach((row, i) => expect(maxAbsDiff(got[i]!, row), `row ${i}`).toBeLessThanOrEqual(TOL.embedding));
  });

  test('preprocessed pixel tensors give the same vectors as the files', async () => {
    const imageCases = singles.filter((c) => c.kind === 'image').slice(0, 3);
    const fromPixels = await encoder.encode(imageCases.map((c) => ({ image: { pixels: recordedPixels(c.image!) } })));
    const fromFiles = await encoder.encode(imageCases.map(toInput));
    fromPixels.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(fromFiles[i]!.buffer))).toBe(true));
  });
});

describe('bad image values never crash the process', () => {
  test('wrong pixel tensors and non-image values fail alone, in any window', async () => {
    const encoder = await Encoder.load({ ...fixtureModelFiles('tiny-bert'), threads: 1, imageWorkers: 0 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const good = { image: recordedPixelsFor('cir_query.png') };
      const inputs = Array.from({ length: 70 }, (_, i) =>
        i === 1 ? { image: { pixels: new Float32Array(3) } } : i === 64 ? { image: 12345 as unknown as Uint8Array } : i % 2 ? { text: `t ${i}` } : good,
      );
      const results = await encoder.encodeSettled(inputs, { batchSize: 1 });
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
      expect(results.filter((r) => !r.ok).map((r) => (!r.ok ? r.error.message : ''))).toEqual([
        expect.stringMatching(/^input 1 \(image\): preprocessed pixels must be a Float32Array/),
        expect.stringMatching(/^input 64 \(image\): must be a file path/),
      ]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await encoder.close();
    }
  });
});

function recordedPixelsFor(name: string): { pixels: Float32Array } {
  return { pixels: recordedPixels(`../images/${name}`) };
}
