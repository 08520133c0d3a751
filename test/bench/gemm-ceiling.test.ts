import { describe, expect, it } from 'vitest';
import { imageProducts, type Product, textProducts, visionProducts } from '../../bench/gemm-ceiling.js';
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
    const formula = { base: (n: number) => 169_869_312 * n + 36_864 * n * n, m3: (n: number) => 603_979_776 * n + 98_304 * n * n };
    for (const variant of ['base', 'm3'] as const) {
      const { width: w, textIntermediate: f } = VISUALIZED_DIMS[variant];
      for (const n of [16, 198, 258]) {
        const skipped = n - 2;
        // q and out projections, FFN in and out, and both attention products for the skipped rows.
        const saving = 2 * skipped * (2 * w * w + 2 * w * f) + 2 * 2 * skipped * n * w;
        expect(flops(textProducts(variant, 1, n))).toBe(formula[variant](n) - saving);
      }
    }
  });

  it('a batch of images is that many images', () => {
    expect(gflop(imageProducts('base', 8))).toBeCloseTo(8 * gflop(imageProducts('base', 1)), 6);
    expect(gflop(imageProducts('base', 1))).toBeCloseTo(70.4 - 2.4, 0);
  });
});
