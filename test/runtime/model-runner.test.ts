import { describe, expect, it } from 'vitest';
import { imageTokensOf } from '../../src/runtime/model-runner.js';

/** Image tokens of four items, each item's tokens a view into one batch buffer, as runVision returns them. */
function visionBatch(items: number, perItem: number): Float32Array[] {
  const out = Float32Array.from({ length: items * perItem }, (_, i) => i + 0.5);
  return Array.from({ length: items }, (_, i) => out.subarray(i * perItem, (i + 1) * perItem));
}

describe('imageTokensOf: the text graph input from image tokens', () => {
  const per = 6;

  it('uses a vision batch in its own order as it is (no copy)', () => {
    const views = visionBatch(4, per);
    const got = imageTokensOf(views.map((imageTokens) => ({ ids: [1, 2], imageTokens })), per);
    expect(got.buffer).toBe(views[0]!.buffer);
    expect(Array.from(got)).toEqual(Array.from({ length: 4 * per }, (_, i) => i + 0.5));
    // Part of a batch, from its second item on, is a view too.
    const tail = imageTokensOf(views.slice(1, 3).map((imageTokens) => ({ ids: [1], imageTokens })), per);
    expect(tail.buffer).toBe(views[0]!.buffer);
    expect(Array.from(tail)).toEqual([...views[1]!, ...views[2]!]);
  });

  it('copies items that are not side by side in order, or not in one buffer', () => {
    const views = visionBatch(4, per);
    const other = visionBatch(1, per)[0]!.map((v) => -v);
    for (const picked of [[views[1]!, views[0]!], [views[0]!, views[2]!], [views[0]!, other]]) {
      const got = imageTokensOf(picked.map((imageTokens) => ({ ids: [1], imageTokens })), per);
      expect(got.buffer).not.toBe(views[0]!.buffer);
      expect(Array.from(got)).toEqual(picked.flatMap((v) => Array.from(v)));
    }
  });
});
