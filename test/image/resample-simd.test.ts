import { describe, expect, it } from 'vitest';
import { compileWasm } from '../../scripts/build-wasm.js';
import { resizeBicubic, resizeBicubicReference, type Raster, type Window } from '../../src/image/resample.js';
import { RESAMPLE_SIMD_WASM_BASE64 } from '../../src/image/resample-simd-wasm.js';
import { simdResampleAvailable } from '../../src/image/resample-simd.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Noise mixed with hard 0/255 blocks, so bicubic overshoot hits both clamps. */
function randomRaster(rnd: () => number, width: number, height: number, channels: number): Raster {
  const data = new Uint8Array(width * height * channels);
  const block = 1 + Math.floor(rnd() * 6);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const hard = ((Math.floor(x / block) + Math.floor(y / block)) & 1) === 0;
      for (let c = 0; c < channels; c++) {
        const r = rnd();
        data[(y * width + x) * channels + c] = r < 0.35 ? (hard ? 255 : 0) : Math.floor(rnd() * 256);
      }
    }
  }
  return { data, width, height, channels };
}

function expectSameResize(src: Raster, outWidth: number, outHeight: number, window?: Window): void {
  const fast = resizeBicubic(src, outWidth, outHeight, window);
  const ref = resizeBicubicReference(src, outWidth, outHeight, window);
  expect({ width: fast.width, height: fast.height, channels: fast.channels }).toEqual({
    width: ref.width,
    height: ref.height,
    channels: ref.channels,
  });
  const same = Buffer.from(fast.data).equals(Buffer.from(ref.data));
  if (!same) {
    const at = fast.data.findIndex((v, i) => v !== ref.data[i]);
    const where = `${src.width}×${src.height}×${src.channels} → ${outWidth}×${outHeight} ${JSON.stringify(window)}`;
    expect.fail(`SIMD and reference differ at byte ${at} (${fast.data[at]} vs ${ref.data[at]}) for ${where}`);
  }
}

describe('SIMD bicubic kernels', () => {
  it('are available on this runtime (so the tests below exercise them, not the fallback)', () => {
    expect(simdResampleAvailable()).toBe(true);
  });

  it('the committed wasm module is what scripts/build-wasm.ts builds from the .wat', async () => {
    const built = await compileWasm('resample');
    expect(Buffer.from(built).toString('base64')).toBe(RESAMPLE_SIMD_WASM_BASE64);
  });

  for (const channels of [1, 2, 3, 4]) {
    it(`match the TypeScript reference byte for byte on 300 random resizes with ${channels} channel(s)`, () => {
      const rnd = lcg(1000 + channels);
      for (let i = 0; i < 300; i++) {
        const w = 1 + Math.floor(rnd() * (i % 10 === 0 ? 3 : 70));
        const h = 1 + Math.floor(rnd() * (i % 7 === 0 ? 3 : 70));
        const src = randomRaster(rnd, w, h, channels);
        // Mix of downsampling, upsampling, one axis unchanged, and tiny outputs.
        const pick = (size: number): number => {
          const r = rnd();
          if (r < 0.15) return size;
          if (r < 0.25) return 1 + Math.floor(rnd() * 3);
          return 1 + Math.floor(rnd() * 140);
        };
        const ow = pick(w);
        const oh = pick(h);
        if (rnd() < 0.4) {
          const left = Math.floor(rnd() * ow);
          const top = Math.floor(rnd() * oh);
          const width = 1 + Math.floor(rnd() * (ow - left));
          const height = 1 + Math.floor(rnd() * (oh - top));
          expectSameResize(src, ow, oh, { left, top, width, height });
        } else {
          expectSameResize(src, ow, oh);
        }
      }
    });
  }

  it('match on the pipeline shapes: photos to a 224 centre window, portrait and landscape', () => {
    const rnd = lcg(7);
    const cases: [number, number, number, number, number, Window][] = [
      [1024, 768, 3, 298, 224, { left: 37, top: 0, width: 224, height: 224 }],
      [333, 500, 4, 224, 336, { left: 0, top: 56, width: 224, height: 224 }],
      [100, 80, 3, 280, 224, { left: 28, top: 0, width: 224, height: 224 }],
      [1920, 1080, 1, 398, 224, { left: 87, top: 0, width: 224, height: 224 }],
      [640, 257, 2, 557, 224, { left: 166, top: 0, width: 224, height: 224 }],
      [224, 500, 3, 224, 500, { left: 0, top: 138, width: 224, height: 224 }],
    ];
    for (const [w, h, c, ow, oh, win] of cases) expectSameResize(randomRaster(rnd, w, h, c), ow, oh, win);
  });

  it('match when the source is copied in several strips (rows wider than the strip budget allows many of)', () => {
    const rnd = lcg(11);
    expectSameResize(randomRaster(rnd, 4001, 240, 3), 977, 61);
    expectSameResize(randomRaster(rnd, 6000, 90, 4), 1500, 90);
  });

  it('match on a job too large for the reused instance, and the reused instance still works after it', () => {
    const rnd = lcg(13);
    expectSameResize(randomRaster(rnd, 700, 500, 1), 7000, 5000);
    expectSameResize(randomRaster(rnd, 50, 40, 3), 17, 90);
  });

  it('match at the extremes of a single pixel and a single row or column', () => {
    const rnd = lcg(17);
    for (const c of [1, 2, 3, 4]) {
      expectSameResize(randomRaster(rnd, 1, 1, c), 9, 5);
      expectSameResize(randomRaster(rnd, 1, 1, c), 1, 7);
      expectSameResize(randomRaster(rnd, 257, 1, c), 3, 1);
      expectSameResize(randomRaster(rnd, 1, 257, c), 1, 2);
      expectSameResize(randomRaster(rnd, 1, 257, c), 5, 300);
      expectSameResize(randomRaster(rnd, 2, 2, c), 1, 1);
    }
  });

  it('fall back to the reference for channel counts they do not handle', () => {
    const rnd = lcg(19);
    expectSameResize(randomRaster(rnd, 31, 17, 5), 12, 40);
  });
});
