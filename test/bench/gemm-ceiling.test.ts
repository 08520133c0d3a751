import { describe, expect, it } from 'vitest';
import { GFLOP_PER_IMAGE, secondsAtPeak, shareOfPeak, textGflop } from '../../bench/cost-model.js';
import { imageProducts, type Product, queryBlocks, textProducts, visionProducts } from '../../bench/gemm-ceiling.js';
import { VISUALIZED_DIMS } from '../helpers/random-checkpoint.js';

const flops = (products: readonly Product[]): number => products.reduce((s, p) => s + p.count * 2 * Math.max(1, p.batch) * p.m * p.k * p.n, 0);
const gflop = (products: readonly Product[]): number => flops(products) / 1e9;

// The bench's GEMM ceiling is only as good as its list of products: it must hold the products
// the spec's cost model (§11) counts, no more, no fewer.
describe('the GEMM ceiling lists the model\'s products', () => {
  it('vision: patch embedding + blocks + projection as in spec §11', () => {
    expect(gflop(visionProducts('base', 1))).toBeCloseTo(0.23 + 34.89 + 0.23, 1);
    expect(gflop(visionProducts('m3', 1))).toBeCloseTo(0.31 + 161.69 + 0.54, 1);
  });

  it('text: the spec formula per n tokens, less what the last layer skips (all rows but two)', () => {
    for (const variant of ['base', 'm3'] as const) {
      const { width: w, textIntermediate: f } = VISUALIZED_DIMS[variant];
      for (const n of [16, 198, 258]) {
        const skipped = n - 2;
        // q and out projections, FFN in and out, and both attention products for the skipped rows.
        const saving = 2 * skipped * (2 * w * w + 2 * w * f) + 2 * 2 * skipped * n * w;
        expect(flops(textProducts(variant, 1, n))).toBeCloseTo(textGflop(variant, n) * 1e9 - saving, 0);
      }
    }
  });

  it('attention in query blocks: the blocks the graph\'s Loop runs, the same products in all', () => {
    // inQueryBlocks: ⌊(S − 2) / rows⌋ + 1 blocks of `rows`, the last running to the end (never one row alone).
    expect(queryBlocks(8192, 512)).toEqual([[512, 16]]);
    expect(queryBlocks(1025, 512)).toEqual([[512, 1], [513, 1]]);
    expect(queryBlocks(1100, 512)).toEqual([[512, 2], [76, 1]]);
    expect(queryBlocks(513, 512)).toEqual([[513, 1]]);
    expect(queryBlocks(258, 512)).toEqual([[258, 1]]);
    expect(queryBlocks(8192, undefined)).toEqual([[8192, 1]]);
    for (const tokens of [258, 1025, 8192]) expect(flops(textProducts('m3', 1, tokens, 512))).toBe(flops(textProducts('m3', 1, tokens)));
    expect(textProducts('m3', 1, 8192, 512).find((p) => p.what === 'text q·kᵀ')).toMatchObject({ count: 23 * 16, batch: 16, m: 512, k: 64, n: 8192 });
  });

  it('a batch of images is that many images', () => {
    expect(gflop(imageProducts('base', 8))).toBeCloseTo(8 * gflop(imageProducts('base', 1)), 6);
    expect(gflop(imageProducts('base', 1))).toBeCloseTo(GFLOP_PER_IMAGE.base - 2.4, 0);
  });
});

describe('the cost model is the spec\'s (§11)', () => {
  it('text: the spec\'s table at 32, 128 and 512 tokens', () => {
    const table = { base: [5.47, 22.3, 96.6], m3: [19.4, 78.9, 335.0] };
    for (const variant of ['base', 'm3'] as const) {
      [32, 128, 512].forEach((n, i) => expect(Math.abs(textGflop(variant, n) - table[variant][i]!)).toBeLessThan(0.05));
    }
  });

  it('an image: vision + projection + the text encoder over 1 + N + 1 tokens', () => {
    const vision = { base: 0.23 + 34.89 + 0.23, m3: 0.31 + 161.69 + 0.54 };
    expect(vision.base + textGflop('base', 198)).toBeCloseTo(GFLOP_PER_IMAGE.base, 1);
    expect(vision.m3 + textGflop('m3', 258)).toBeCloseTo(GFLOP_PER_IMAGE.m3, 0);
  });

  it('a time against the peak: its share, and the time at the peak itself', () => {
    expect(shareOfPeak(70.4, 0.4, 234)).toBeCloseTo(70.4 / 0.4 / 234, 12);
    expect(secondsAtPeak(70.4, 234)).toBeCloseTo(0.3009, 4);
    expect(shareOfPeak(70.4, 0.18, 234)! > 1).toBe(true);
    expect(shareOfPeak(1, 1, null)).toBeNull();
    expect(secondsAtPeak(1, null)).toBeNull();
    expect(shareOfPeak(1, 0, 234)).toBeNull();
  });
});
