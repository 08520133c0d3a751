/**
 * Pillow-exact resampling of 8-bit interleaved rasters (spec §7.3–§7.4).
 *
 * Bicubic follows Pillow's `ImagingResample` 8-bit path: per-axis coefficient tables in double,
 * rounded to 22-bit fixed point, a horizontal pass (only over the rows the vertical pass reads)
 * into a clamped uint8 intermediate, then a vertical pass. Nearest follows `ImagingScaleAffine`,
 * including its accumulated (not closed-form) source coordinates. Pure functions on typed arrays;
 * every channel is independent, so any channel count works.
 */

/** An interleaved 8-bit image: `data.length === width * height * channels`. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

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

/** Per-output-pixel taps along one axis: source start, tap count and fixed-point weights. */
export interface AxisCoefficients {
  /** Buffer width per output pixel in `weights` (Pillow's `ksize`). */
  ksize: number;
  /** First source index per output pixel. */
  start: Int32Array;
  /** Number of taps per output pixel. */
  count: Int32Array;
  /** `outSize * ksize` weights in 22-bit fixed point. */
  weights: Int32Array;
}

/** Pillow's `precompute_coeffs` for the bicubic filter over the full input range, then `normalize_coeffs_8bpc`. */
export function bicubicCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = BICUBIC_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterScale = 1.0 / filterScale;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const tmp = new Float64Array(ksize);
  const one = 1 << PRECISION_BITS;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = xmax - xmin;
    let ww = 0.0;
    for (let x = 0; x < n; x++) {
      const w = bicubic((x + xmin - center + 0.5) * invFilterScale);
      tmp[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < n; x++) {
      const w = ww !== 0.0 ? tmp[x]! / ww : tmp[x]!;
      weights[base + x] = w < 0 ? Math.trunc(w * one - 0.5) : Math.trunc(w * one + 0.5);
    }
    start[xx] = xmin;
    count[xx] = n;
  }
  return { ksize, start, count, weights };
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

/** Pillow's `Image.resize(size, BICUBIC)` on an 8-bit raster of any channel count (full-image box). */
export function resizeBicubic(src: Raster, outWidth: number, outHeight: number): Raster {
  checkSizes(src, outWidth, outHeight);
  const { width, height, channels } = src;
  if (outWidth === width && outHeight === height) {
    return { data: src.data.slice(), width, height, channels };
  }
  const vertical = bicubicCoefficients(height, outHeight);
  const firstRow = vertical.start[0]!;
  const lastRow = vertical.start[outHeight - 1]! + vertical.count[outHeight - 1]!;
  let data = src.data;
  let rowOffset = 0;
  let curWidth = width;
  if (outWidth !== width) {
    data = horizontalPass(src, bicubicCoefficients(width, outWidth), outWidth, firstRow, lastRow - firstRow);
    rowOffset = firstRow;
    curWidth = outWidth;
  }
  if (outHeight !== height) {
    data = verticalPass(data, curWidth * channels, vertical, outHeight, rowOffset);
  }
  return { data, width: outWidth, height: outHeight, channels };
}

/** Source indices for Pillow's nearest scaling along one axis (`ImagingScaleAffine`'s accumulation). */
export function nearestIndices(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const idx = new Int32Array(outSize);
  let pos = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    const v = pos < 0 ? -1 : Math.trunc(pos);
    idx[i] = v < 0 ? 0 : v >= inSize ? inSize - 1 : v;
    pos += step;
  }
  return idx;
}

/** Pillow's `Image.resize(size, NEAREST)` (what modes `P` and `1` always get). */
export function resizeNearest(src: Raster, outWidth: number, outHeight: number): Raster {
  checkSizes(src, outWidth, outHeight);
  const { data, width, height, channels } = src;
  if (outWidth === width && outHeight === height) {
    return { data: data.slice(), width, height, channels };
  }
  const xs = nearestIndices(width, outWidth);
  const ys = nearestIndices(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * channels);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const rowIn = ys[y]! * width * channels;
    for (let x = 0; x < outWidth; x++) {
      const p = rowIn + xs[x]! * channels;
      for (let c = 0; c < channels; c++) out[o++] = data[p + c]!;
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
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

function checkSizes(src: Raster, outWidth: number, outHeight: number): void {
  const { data, width, height, channels } = src;
  if (data.length !== width * height * channels) {
    throw new RangeError(`raster of ${width}×${height}×${channels} has ${data.length} bytes`);
  }
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight))) {
    throw new RangeError(`invalid output size ${outWidth}×${outHeight}`);
  }
}
