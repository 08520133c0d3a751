/**
 * The graphs against upstream's recorded outputs, starting from the recorded pixel_values and
 * token ids (so preprocessing and tokenisation are tested elsewhere): every case single and
 * batched, and every recorded intermediate tensor.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BatchCase, type FixtureSet, type SingleCase, fixturePath, readF32 } from '../helpers/fixtures.js';
import { TappedModel, recordedPixels } from '../helpers/graph-runner.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';
import { TOL, intermediateBound, maxAbs, maxAbsDiff } from '../helpers/tolerances.js';

const SETS: FixtureSet[] = ['tiny-bert', 'tiny-xlmr', 'tiny-bert-fp16'];

describe.each(SETS)('%s', (set) => {
  const model = loadFixtureModel(set);
  const singles = model.cases.cases.filter((c): c is SingleCase => !c.batch);
  const batches = model.cases.cases.filter((c): c is BatchCase => c.batch === true);
  let tapped: TappedModel;
  beforeAll(async () => {
    tapped = await TappedModel.create(model);
  });
  afterAll(async () => tapped.release());

  test.each(singles.map((c) => [c.id, c] as const))('case %s matches upstream', async (_id, c) => {
    const image = c.kind === 'text' ? undefined : ((await tapped.runVision([recordedPixels(c.image!)]))['image_tokens']!.data as Float32Array);
    const out = await tapped.runText([c.input_ids], [c.attention_mask], image);
    expect(maxAbsDiff(out['embedding']!.data as Float32Array, c.embedding)).toBeLessThanOrEqual(TOL.embedding);
  });

  test.each(batches.map((c) => [c.id, c] as const))('padded batch %s matches upstream row by row', async (_id, c) => {
    let image: Float32Array | undefined;
    if (c.kind !== 'text') {
      const images = c['images'] as string[];
      image = (await tapped.runVision(images.map(recordedPixels)))['image_tokens']!.data as Float32Array;
    }
    if (c.kind === 'image') {
      // encode_image: the empty prompt for every row.
      const empty = model.cases.cases.find((k): k is SingleCase => !k.batch && k.kind === 'image')!;
      const n = (c['images'] as string[]).length;
      const out = await tapped.runText(new Array(n).fill(empty.input_ids), new Array(n).fill(empty.attention_mask), image);
      checkRows(out['embedding']!.data as Float32Array, c.embeddings);
      return;
    }
    const out = await tapped.runText(c.input_ids, c.attention_mask, image);
    checkRows(out['embedding']!.data as Float32Array, c.embeddings);
  });

  const intermediates = Object.entries(model.cases.intermediates ?? {});
  test.each(intermediates.map(([k, v]) => [k, v] as const))('intermediates of %s', async (_k, inter) => {
    const c = singles.find((s) => s.id === inter.case)!;
    const vision = c.kind === 'text' ? undefined : await tapped.runVision([recordedPixels(c.image!)]);
    const text = await tapped.runText([c.input_ids], [c.attention_mask], vision?.['image_tokens']!.data as Float32Array | undefined);
    const worst: string[] = [];
    for (const [name, t] of Object.entries(inter.tensors)) {
      const tapName = name === 'embeddings_output' ? 'prompt_embeddings' : name;
      const got = (vision?.[`tap:${tapName}`] ?? text[`tap:${tapName}`])?.data as Float32Array | undefined;
      expect(got, `tap for ${name}`).toBeDefined();
      const expected = readF32(fixturePath(set, t.file));
      expect(got!.length).toBe(expected.length);
      const diff = maxAbsDiff(got!, expected);
      worst.push(`${name}: ${(diff / Math.max(1, maxAbs(expected))).toExponential(2)}`);
      expect(diff, `${name} (max |value| ${maxAbs(expected).toFixed(2)})`).toBeLessThanOrEqual(intermediateBound(expected));
    }
  });

  function checkRows(got: Float32Array, expected: number[][]): void {
    const dim = model.config.text.hiddenSize;
    expected.forEach((row, i) => expect(maxAbsDiff(got.subarray(i * dim, (i + 1) * dim), row), `row ${i}`).toBeLessThanOrEqual(TOL.embedding));
  }
});
