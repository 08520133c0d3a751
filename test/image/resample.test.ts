import { describe, expect, it } from 'vitest';
import { centerCropOffsets, normalise, resizeTarget } from '../../src/image/preprocess.js';
import {
  bicubicCoefficients,
  nearestIndices,
  premultiplyAlpha,
  resizeBicubic,
  resizeNearest,
  unpremultiplyAlpha,
} from '../../src/image/resample.js';

describe('bicubic coefficients (spec §7.4 test vectors)', () => {
  it('640 → 298', () => {
    const c = bicubicCoefficients(640, 298);
    expect(c.ksize).toBe(11);
    expect([c.start[0], c.count[0]]).toEqual([0, 5]);
    expect(Array.from(c.weights.subarray(0, 5))).toEqual([1780767, 1913023, 705506, -102881, -102111]);
    expect([c.start[1], c.count[1]]).toEqual([0, 8]);
    expect(Array.from(c.weights.subarray(11, 19))).toEqual([-138346, 320600, 1493986, 1853615, 830119, -51813, -113799, -58]);
    expect([c.start[149], c.count[149]]).toEqual([317, 8]);
  });

  it('100 → 224 (upsampling)', () => {
    const c = bicubicCoefficients(100, 224);
    expect(c.ksize).toBe(5);
    expect(c.start[0]).toBe(0);
    expect(Array.from(c.weights.subarray(0, c.count[0]))).toEqual([4589675, -395371]);
    expect(Array.from(c.weights.subarray(5, 5 + c.count[1]!))).toEqual([3706484, 535166, -47346]);
  });

  it('a window of output pixels has the same taps as the full axis', () => {
    const full = bicubicCoefficients(777, 301);
    const win = bicubicCoefficients(777, 301, 40, 224);
    for (let i = 0; i < 224; i++) {
      expect(win.start[i]).toBe(full.start[40 + i]);
      expect(win.count[i]).toBe(full.count[40 + i]);
      expect(Array.from(win.weights.subarray(i * win.ksize, (i + 1) * win.ksize))).toEqual(
        Array.from(full.weights.subarray((40 + i) * full.ksize, (41 + i) * full.ksize)),
      );
    }
  });
});

describe('Resize(224) size and CenterCrop(224) offsets (spec §7.5 table)', () => {
  const table: [number, number, number, number, number, number][] = [
    [640, 480, 298, 224, 0, 37],
    [500, 375, 298, 224, 0, 37],
    [1024, 768, 298, 224, 0, 37],
    [4000, 3000, 298, 224, 0, 37],
    [1920, 1080, 398, 224, 0, 87],
    [333, 500, 224, 336, 56, 0],
    [800, 607, 295, 224, 0, 36],
    [778, 475, 366, 224, 0, 71],
    [3504, 2336, 336, 224, 0, 56],
    [299, 224, 299, 224, 0, 38],
    [100, 80, 280, 224, 0, 28],
    [300, 500, 224, 373, 74, 0],
    [640, 257, 557, 224, 0, 166],
  ];
  for (const [w, h, rw, rh, top, left] of table) {
    it(`${w}×${h} → ${rw}×${rh}, crop (top ${top}, left ${left})`, () => {
      expect(resizeTarget(w, h)).toEqual({ width: rw, height: rh });
      expect(centerCropOffsets(rw, rh)).toEqual({ left, top });
    });
  }
});

describe('resampling helpers', () => {
  it('resizing to the same size is a copy, and a window of a resize equals the crop of the full resize', () => {
    const data = new Uint8Array(37 * 29 * 3).map((_, i) => (i * 7919) % 256);
    const src = { data, width: 37, height: 29, channels: 3 };
    expect(Array.from(resizeBicubic(src, 37, 29).data)).toEqual(Array.from(data));
    const full = resizeBicubic(src, 61, 45);
    const win = resizeBicubic(src, 61, 45, { left: 5, top: 7, width: 20, height: 30 });
    for (let y = 0; y < 30; y++) {
      expect(Array.from(win.data.subarray(y * 60, y * 60 + 60))).toEqual(
        Array.from(full.data.subarray(((y + 7) * 61 + 5) * 3, ((y + 7) * 61 + 25) * 3)),
      );
    }
    const nFull = resizeNearest(src, 100, 80);
    const nWin = resizeNearest(src, 100, 80, { left: 3, top: 2, width: 10, height: 10 });
    expect(Array.from(nWin.data.subarray(0, 30))).toEqual(Array.from(nFull.data.subarray((2 * 100 + 3) * 3, (2 * 100 + 13) * 3)));
  });

  it('clamps overshoot to 0..255 on a hard edge', () => {
    const data = new Uint8Array(16).fill(0);
    data.fill(255, 8);
    const out = resizeBicubic({ data, width: 16, height: 1, channels: 1 }, 40, 1).data;
    expect(Math.min(...out)).toBe(0);
    expect(Math.max(...out)).toBe(255);
  });

  it("replays Pillow's accumulated nearest coordinates", () => {
    expect(Array.from(nearestIndices(400, 298).subarray(0, 8))).toEqual([0, 2, 3, 4, 6, 7, 8, 10]);
    expect(Array.from(nearestIndices(400, 298, 290, 8))).toEqual(Array.from(nearestIndices(400, 298).subarray(290)));
    expect(Array.from(nearestIndices(2, 5))).toEqual([0, 0, 1, 1, 1]);
  });

  it('premultiplies with MULDIV255 and un-premultiplies as Pillow does', () => {
    const px = { data: new Uint8Array([200, 100, 50, 128, 10, 20, 30, 0, 255, 1, 2, 255]), width: 3, height: 1, channels: 4 };
    const pre = premultiplyAlpha(px);
    expect(Array.from(pre.data)).toEqual([100, 50, 25, 128, 0, 0, 0, 0, 255, 1, 2, 255]);
    expect(Array.from(unpremultiplyAlpha(pre).data)).toEqual([199, 99, 49, 128, 0, 0, 0, 0, 255, 1, 2, 255]);
  });

  it('normalises with float32 steps like torch', () => {
    const rgb = new Uint8Array(224 * 224 * 3);
    rgb[0] = 255;
    const out = normalise(rgb);
    const f = Math.fround;
    expect(out[0]).toBe(f(f(f(255 / 255) - f(0.48145466)) / f(0.26862954)));
    expect(out[224 * 224]).toBe(f(f(0 - f(0.4578275)) / f(0.26130258)));
  });
});
