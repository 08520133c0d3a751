/** The text tower loaded from the HF folder's safetensors / pytorch_model.bin gives the same results. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { type FixtureSet, type SingleCase, fixturePath, loadCases } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { TOL, maxAbsDiff } from '../helpers/tolerances.js';

describe.each(['tiny-bert', 'tiny-xlmr'] as FixtureSet[])('%s', (set) => {
  const cases = loadCases(set);
  const files = fixtureModelFiles(set);
  const picked = cases.cases.filter((c): c is SingleCase => !c.batch && ['text-01', 'text-06', 'image-01', 'mm-01'].includes(c.id));
  const inputs = picked.map((c) => ({ ...(c.kind !== 'image' ? { text: c.text ?? '' } : {}), ...(c.image ? { image: fixturePath(set, c.image) } : {}) }));

  test.each(['model.safetensors', 'pytorch_model.bin', '.'])('text weights from %s', async (file) => {
    const textWeights = file === '.' ? files.textModel : join(files.textModel, file);
    const reference = await Encoder.load({ ...files, threads: 1, imageWorkers: 0 });
    const replaced = await Encoder.load({ ...files, textWeights, threads: 1, imageWorkers: 0 });
    try {
      const a = await reference.encode(inputs);
      const b = await replaced.encode(inputs);
      picked.forEach((c, i) => {
        expect(maxAbsDiff(b[i]!, c.embedding), c.id).toBeLessThanOrEqual(TOL.embedding);
        // The fp32 fixtures' text weights are the .pth's exactly, so the bits agree too.
        expect(Buffer.from(b[i]!.buffer).equals(Buffer.from(a[i]!.buffer)), c.id).toBe(true);
      });
      expect((await replaced.provenance()).textWeightsSha256).not.toBeNull();
    } finally {
      await reference.close();
      await replaced.close();
    }
  });
});
