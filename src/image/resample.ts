/**
 * Pillow-exact resampling of 8-bit interleaved rasters (spec §7.3–§7.4).
 *
 * Bicubic follows Pillow's `ImagingResample` 8-bit path: per-axis coefficient tables in double,
 * rounded to 22-bit fixed point, a horizontal pass (only over the rows the vertical pass reads)
 * into a clamped uint8 intermediate, then a vertical pass. Nearest follows `ImagingScaleAffine`,
 * including its accumulated (not closed-form) source coordinates. Pure functions on typed arrays;
 * every channel is independent, so any channel count works. The bicubic passes run as WebAssembly
 * SIMD kernels (resample-simd.ts) where available; the TypeScript passes here are their reference.
 */
import { bicubicPassesSimd, type BicubicPasses } from './resample-simd.js';
import type { AxisCoefficients, Raster } from './resample-types.js';

export type { AxisCoefficients, Raster };

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
/** Accumulators at or above this value clamp to 255 (255.99… in fixed point). */
const CLAMP_HIGH = 256 << PRECISION_BITS;
const BICUBIC_A = -0.5;
const BICUBIC_SUPPORT = 2.0;

function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((BICUBIC_A + 2) * x - (BICUBIC_A + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * BICUBIC_A;
  return 0;
}

/**
 * Pillow's `precompute_coeffs` (bicubic, full input range) then `normalize_coeffs_8bpc`, for the
 * output pixels `first … first + n − 1` of an axis resized from `inSize` to `outSize`.
 * Each output pixel's taps depend only on its own index, so a window is exact.
 */
export function bicubicCoefficients(inSize: number, outSize: number, first = 0, n = outSize - first): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = BICUBIC_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterScale = 1.0 / filterScale;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Int32Array(n * ksize);
  const tmp = new Float64Array(ksize);
  const one = 1 << PRECISION_BITS;
  for (let i = 0; i < n; i++) {
    const xx = first + i;
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const taps = xmax - xmin;
    let ww = 0.0;
    for (let x = 0; x < taps; x++) {
      const w = bicubic((x + xmin - center + 0.5) * invFilterScale);
      tmp[x] = w;
      ww += w;
    }
    const base = i * ksize;
    for (let x = 0; x < taps; x++) {
      const w = ww !== 0.0 ? tmp[x]! / ww : tmp[x]!;
      weights[base + x] = w < 0 ? Math.trunc(w * one - 0.5) : Math.trunc(w * one + 0.5);
    }
    start[i] = xmin;
    count[i] = taps;
  }
  return { ksize, start, count, weights };
}

/** A rectangle of the resized image to produce (the rest is never computed). */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

function clampShift(acc: number): number {
  if (acc <= 0) return 0;
  if (acc >= CLAMP_HIGH) return 255;
  return acc >> PRECISION_BITS;
}

function horizontalPass(
  src: Raster,
  coeffs: AxisCoefficients,
  outWidth: number,
  firstRow: number,
  rowCount: number,
): Uint8Array {
  const { data, width, channels } = src;
  const { ksize, start, count, weights } = coeffs;
  const out = new Uint8Array(outWidth * rowCount * channels);
  const inStride = width * channels;
  const outStride = outWidth * channels;
  for (let y = 0; y < rowCount; y++) {
    const rowIn = (y + firstRow) * inStride;
    const rowOut = y * outStride;
    for (let xx = 0; xx < outWidth; xx++) {
      const n = count[xx]!;
      const kBase = xx * ksize;
      const pBase = rowIn + start[xx]! * channels;
      const o = rowOut + xx * channels;
      if (channels === 3) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0, p = pBase; x < n; x++, p += 3) {
          const k = weights[kBase + x]!;
          s0 = (s0 + Math.imul(data[p]!, k)) | 0;
          s1 = (s1 + Math.imul(data[p + 1]!, k)) | 0;
          s2 = (s2 + Math.imul(data[p + 2]!, k)) | 0;
        }
        out[o] = clampShift(s0);
        out[o + 1] = clampShift(s1);
        out[o + 2] = clampShift(s2);
      } else {
        for (let c = 0; c < channels; c++) {
          let s = HALF;
          for (let x = 0, p = pBase + c; x < n; x++, p += channels) {
            s = (s + Math.imul(data[p]!, weights[kBase + x]!)) | 0;
          }
          out[o + c] = clampShift(s);
        }
      }
    }
  }
  return out;
}

function verticalPass(
  data: Uint8Array,
  rowLength: number,
  coeffs: AxisCoefficients,
  outHeight: number,
  rowOffset: number,
): Uint8Array {
  const { ksize, start, count, weights } = coeffs;
  const out = new Uint8Array(rowLength * outHeight);
  const acc = new Int32Array(rowLength);
  for (let yy = 0; yy < outHeight; yy++) {
    const n = count[yy]!;
    const kBase = yy * ksize;
    const first = start[yy]! - rowOffset;
    acc.fill(HALF);
    // Row-major accumulation keeps memory access sequential; integer sums are order-independent.
    for (let y = 0; y < n; y++) {
      const k = weights[kBase + y]!;
      const rowIn = (first + y) * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] = (acc[i]! + Math.imul(data[rowIn + i]!, k)) | 0;
    }
    const rowOut = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[rowOut + i] = clampShift(acc[i]!);
  }
  return out;
}

/** Copies columns `left … left + width − 1` of rows `firstRow …` (an axis that needs no resampling). */
function copyColumns(src: Raster, left: number, width: number, firstRow: number, rowCount: number): Uint8Array {
  const { data, width: inWidth, channels } = src;
  const out = new Uint8Array(width * rowCount * channels);
  const rowBytes = width * channels;
  for (let y = 0; y < rowCount; y++) {
    const from = ((firstRow + y) * inWidth + left) * channels;
    out.set(data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}

/** The coefficient tables and intermediate rows for one bicubic resize to a window. */
function planBicubic(src: Raster, outWidth: number, outHeight: number, window: Window | undefined): BicubicPasses {
  const win = checkSizes(src, outWidth, outHeight, window);
  const { width, height } = src;
  const vertical = outHeight !== height ? bicubicCoefficients(height, outHeight, win.top, win.height) : undefined;
  const horizontal = outWidth !== width ? bicubicCoefficients(width, outWidth, win.left, win.width) : undefined;
  // Rows of the (horizontally resampled) intermediate that the vertical pass reads.
  const firstRow = vertical ? vertical.start[0]! : win.top;
  const lastRow = vertical ? vertical.start[win.height - 1]! + vertical.count[win.height - 1]! : win.top + win.height;
  return { horizontal, vertical, left: win.left, width: win.width, height: win.height, firstRow, rows: lastRow - firstRow };
}

function bicubicPassesReference(src: Raster, p: BicubicPasses): Uint8Array {
  const rowLength = p.width * src.channels;
  const first = p.horizontal
    ? horizontalPass(src, p.horizontal, p.width, p.firstRow, p.rows)
    : copyColumns(src, p.left, p.width, p.firstRow, p.rows);
  return p.vertical ? verticalPass(first, rowLength, p.vertical, p.height, p.firstRow) : first;
}

/**
 * Pillow's `Image.resize((outWidth, outHeight), BICUBIC)` on an 8-bit raster of any channel count
 * (full-image box), returning only `window` of the result (default: all of it). Runs the WebAssembly
 * SIMD kernels where available (1–4 channels), else the TypeScript passes; the bytes are identical.
 */
export function resizeBicubic(src: Raster, outWidth: number, outHeight: number, window?: Window): Raster {
  const p = planBicubic(src, outWidth, outHeight, window);
  const data = bicubicPassesSimd(src, p) ?? bicubicPassesReference(src, p);
  return { data, width: p.width, height: p.height, channels: src.channels };
}

/** `resizeBicubic` with the TypeScript passes only: the reference the SIMD kernels are tested against. */
export function resizeBicubicReference(src: Raster, outWidth: number, outHeight: number, window?: Window): Raster {
  const p = planBicubic(src, outWidth, outHeight, window);
  return { data: bicubicPassesReference(src, p), width: p.width, height: p.height, channels: src.channels };
}

/**
 * Source indices for Pillow's nearest scaling along one axis, for output pixels `first … first + n − 1`.
 * `ImagingScaleAffine` accumulates the source coordinate (`pos += step`), so we replay the sum from 0.
 */
export function nearestIndices(inSize: number, outSize: number, first = 0, n = outSize - first): Int32Array {
  const step = inSize / outSize;
  const idx = new Int32Array(n);
  let pos = step * 0.5;
  for (let i = 0; i < first + n; i++) {
    if (i >= first) {
      const v = Math.trunc(pos);
      idx[i - first] = v >= inSize ? inSize - 1 : v;
    }
    pos += step;
  }
  return idx;
}

/** Pillow's `Image.resize(size, NEAREST)` (what modes `P` and `1` always get), returning only `window`. */
export function resizeNearest(src: Raster, outWidth: number, outHeight: number, window?: Window): Raster {
  const win = checkSizes(src, outWidth, outHeight, window);
  const { data, width, height, channels } = src;
  const xs = nearestIndices(width, outWidth, win.left, win.width);
  const ys = nearestIndices(height, outHeight, win.top, win.height);
  const out = new Uint8Array(win.width * win.height * channels);
  let o = 0;
  for (let y = 0; y < win.height; y++) {
    const rowIn = ys[y]! * width * channels;
    for (let x = 0; x < win.width; x++) {
      const p = rowIn + xs[x]! * channels;
      for (let c = 0; c < channels; c++) out[o++] = data[p + c]!;
    }
  }
  return { data: out, width: win.width, height: win.height, channels };
}

/** Pillow's `MULDIV255`: round(a·b / 255) in integers. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** RGBA → RGBa / LA → La: colour channels multiplied by alpha (the last channel). Returns a copy. */
export function premultiplyAlpha(src: Raster): Raster {
  const { data, channels } = src;
  const out = new Uint8Array(data.length);
  const colour = channels - 1;
  for (let p = 0; p < data.length; p += channels) {
    const a = data[p + colour]!;
    for (let c = 0; c < colour; c++) out[p + c] = mulDiv255(data[p + c]!, a);
    out[p + colour] = a;
  }
  return { ...src, data: out };
}

/** RGBa → RGBA / La → LA: Pillow keeps colours where alpha is 0 or 255, else min(255, 255·c // a). In place. */
export function unpremultiplyAlpha(img: Raster): Raster {
  const { data, channels } = img;
  const colour = channels - 1;
  for (let p = 0; p < data.length; p += channels) {
    const a = data[p + colour]!;
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < colour; c++) {
      const v = Math.trunc((255 * data[p + c]!) / a);
      data[p + c] = v > 255 ? 255 : v;
    }
  }
  return img;
}

function checkSizes(src: Raster, outWidth: number, outHeight: number, window?: Window): Window {
  const { data, width, height, channels } = src;
  if (data.length !== width * height * channels) {
    throw new RangeError(`raster of ${width}×${height}×${channels} has ${data.length} bytes`);
  }
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight))) {
    throw new RangeError(`invalid output size ${outWidth}×${outHeight}`);
  }
  const win = window ?? { left: 0, top: 0, width: outWidth, height: outHeight };
  const ok =
    [win.left, win.top, win.width, win.height].every(Number.isInteger) &&
    win.left >= 0 &&
    win.top >= 0 &&
    win.width >= 1 &&
    win.height >= 1 &&
    win.left + win.width <= outWidth &&
    win.top + win.height <= outHeight;
  if (!ok) throw new RangeError(`window ${JSON.stringify(win)} is not inside ${outWidth}×${outHeight}`);
  return win;
}
