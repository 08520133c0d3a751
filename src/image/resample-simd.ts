/**
 * Host side of the WebAssembly SIMD bicubic kernels (src/image/resample-simd.wat): lays out the
 * coefficient tables and pixels in the module's memory and runs the horizontal and vertical passes.
 * Results are byte-identical to the TypeScript passes in resample.ts (the reference, and the fallback
 * wherever WebAssembly SIMD is unavailable); test/image/resample-simd.test.ts checks that.
 */
import type { AxisCoefficients, Raster } from './resample-types.js';
import { RESAMPLE_SIMD_WASM_BASE64 } from './resample-simd-wasm.js';

/** What the kernels need beyond the source: which output window, from which intermediate rows. */
export interface BicubicPasses {
  /** Output columns of the window, or undefined when the width is unchanged (columns are copied). */
  horizontal: AxisCoefficients | undefined;
  /** Output rows of the window, or undefined when the height is unchanged. */
  vertical: AxisCoefficients | undefined;
  /** Left edge of the window (used only when `horizontal` is undefined). */
  left: number;
  width: number;
  height: number;
  /** Source rows `firstRow … firstRow + rows − 1` feed the window. */
  firstRow: number;
  rows: number;
}

interface Kernels {
  memory: WebAssembly.Memory;
  hpass(
    src: number, srcStride: number, rows: number, dst: number, outWidth: number, channels: number,
    offsets: number, groups: number, weights: number, kgroups: number, mask: number, step: number, reduce: number,
  ): void;
  vpass(src: number, rowLen: number, dst: number, outRows: number, starts: number, pairs: number, weights: number, kpairs: number): void;
}

/** Memory a reused instance may keep; larger jobs get a throwaway instance so it is not held forever. */
const KEEP_BYTES = 32 * 1024 * 1024;
/** Above this the TypeScript passes run instead (wasm32 memory is at most 4 GiB). */
const MAX_BYTES = 1024 * 1024 * 1024;
/** Source rows are copied into the module in strips of about this many bytes. */
const STRIP_BYTES = 512 * 1024;
/** Bytes the kernels may read past their last pixel or write past their output. */
const PAD = 32;
const LOW_BITS = 11;
const LOW_MASK = (1 << LOW_BITS) - 1;

let compiled: WebAssembly.Module | null | undefined;
let kept: Kernels | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(RESAMPLE_SIMD_WASM_BASE64, 'base64');
    try {
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether this runtime has WebAssembly SIMD, i.e. whether `resizeBicubic` uses the kernels. */
export function simdResampleAvailable(): boolean {
  return kernelModule() !== null;
}

function instantiate(module: WebAssembly.Module): Kernels {
  return new WebAssembly.Instance(module).exports as unknown as Kernels;
}

function kernelsWithMemory(bytes: number): Kernels | undefined {
  const module = kernelModule();
  if (!module || bytes > MAX_BYTES) return undefined;
  let k: Kernels;
  if (bytes <= KEEP_BYTES) k = kept ??= instantiate(module);
  else k = instantiate(module);
  const have = k.memory.buffer.byteLength;
  if (have < bytes) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return undefined; // the engine refused the memory: the TypeScript passes allocate per buffer instead
    }
  }
  return k;
}

/** Taps per 8-byte group and the (tap, channel) each i16 lane of a group holds, by channel count. */
function groupLayout(channels: number): { taps: number; lanes: { tap: number; channel: number }[] } {
  const lanes: { tap: number; channel: number }[] = [];
  if (channels === 1) {
    for (let l = 0; l < 8; l++) lanes.push({ tap: l, channel: 0 });
    return { taps: 8, lanes };
  }
  if (channels === 2) {
    for (let l = 0; l < 8; l++) lanes.push({ tap: 2 * (l >> 2) + (l & 1), channel: (l >> 1) & 1 });
    return { taps: 4, lanes };
  }
  // 3 or 4 channels: i32 lane c sums channel c over a pair of taps; channel 3 of RGB is never stored.
  for (let l = 0; l < 8; l++) lanes.push({ tap: l & 1, channel: l >> 1 });
  return { taps: 2, lanes };
}

const align = (n: number): number => (n + 15) & ~15;

/**
 * Runs the bicubic passes of `resizeBicubic` with the SIMD kernels and returns the window's pixels,
 * or undefined when the kernels cannot run here (no SIMD, more than 4 channels, too large).
 */
export function bicubicPassesSimd(src: Raster, p: BicubicPasses): Uint8Array | undefined {
  const { data, width, channels } = src;
  const { horizontal: h, vertical: v } = p;
  if (!h && !v) return undefined;
  if (channels < 1 || channels > 4 || !simdResampleAvailable()) return undefined;
  const rowLen = p.width * channels;
  const inStride = width * channels;
  const layout = groupLayout(channels);
  const kgroups = h ? Math.ceil(h.ksize / layout.taps) : 0;
  const kpairs = v ? Math.ceil(v.ksize / 2) : 0;
  const stripRows = Math.max(1, Math.min(p.rows, Math.floor(STRIP_BYTES / inStride)));

  // Memory map: mask | horizontal tables | vertical tables | intermediate | output | source strip.
  const mask = 0;
  const hOffsets = 16;
  const hGroups = align(hOffsets + p.width * 4);
  const hWeights = align(hGroups + p.width * 4);
  const vStarts = align(hWeights + p.width * kgroups * 32);
  const vPairs = align(vStarts + p.height * 4);
  const vWeights = align(vPairs + p.height * 4);
  const inter = align(vWeights + p.height * kpairs * 8);
  const out = align(inter + (v ? p.rows * rowLen + rowLen + PAD : 0));
  const strip = align(out + p.height * rowLen + PAD);
  const end = strip + (h ? stripRows * inStride + PAD : 0);
  const k = kernelsWithMemory(end);
  if (!k) return undefined;
  const buf = k.memory.buffer;
  const u8 = new Uint8Array(buf);
  const i16 = new Int16Array(buf);
  const i32 = new Int32Array(buf);

  if (h) {
    const { lanes, taps: groupTaps } = layout;
    for (let l = 0; l < 8; l++) {
      const { tap, channel } = lanes[l]!;
      u8[mask + 2 * l] = channel < channels ? tap * channels + channel : 0x80;
      u8[mask + 2 * l + 1] = 0x80;
    }
    for (let x = 0; x < p.width; x++) {
      const taps = h.count[x]!;
      const groups = Math.max(1, Math.ceil(taps / groupTaps));
      i32[(hOffsets >> 2) + x] = h.start[x]! * channels;
      i32[(hGroups >> 2) + x] = groups;
      for (let g = 0; g < groups; g++) {
        const at = (hWeights >> 1) + (x * kgroups + g) * 16;
        for (let l = 0; l < 8; l++) {
          const { tap, channel } = lanes[l]!;
          const t = g * groupTaps + tap;
          const w = channel < channels && t < taps ? h.weights[x * h.ksize + t]! : 0;
          const hi = w >> LOW_BITS;
          if (hi < -32768 || hi > 32767) return undefined;
          i16[at + l] = hi;
          i16[at + 8 + l] = w & LOW_MASK;
        }
      }
    }
  }
  if (v) {
    for (let r = 0; r < p.height; r++) {
      const taps = v.count[r]!;
      const pairs = Math.max(1, Math.ceil(taps / 2));
      i32[(vStarts >> 2) + r] = (v.start[r]! - p.firstRow) * rowLen;
      i32[(vPairs >> 2) + r] = pairs;
      for (let j = 0; j < pairs; j++) {
        const w0 = v.weights[r * v.ksize + 2 * j]!;
        const w1 = 2 * j + 1 < taps ? v.weights[r * v.ksize + 2 * j + 1]! : 0;
        const hi0 = w0 >> LOW_BITS;
        const hi1 = w1 >> LOW_BITS;
        if (hi0 < -32768 || hi0 > 32767 || hi1 < -32768 || hi1 > 32767) return undefined;
        const at = (vWeights >> 2) + (r * kpairs + j) * 2;
        i32[at] = (hi0 & 0xffff) | (hi1 << 16);
        i32[at + 1] = (w0 & LOW_MASK) | ((w1 & LOW_MASK) << 16);
      }
    }
  }

  // Horizontal pass (or a column copy) into the intermediate, or straight into the output.
  const firstPassOut = v ? inter : out;
  if (h) {
    const step = layout.taps * channels;
    const reduce = channels === 1 ? 2 : channels === 2 ? 1 : 0;
    for (let r0 = 0; r0 < p.rows; r0 += stripRows) {
      const n = Math.min(stripRows, p.rows - r0);
      const from = (p.firstRow + r0) * inStride;
      u8.set(data.subarray(from, from + n * inStride), strip);
      k.hpass(strip, inStride, n, firstPassOut + r0 * rowLen, p.width, channels, hOffsets, hGroups, hWeights, kgroups, mask, step, reduce);
    }
  } else {
    for (let y = 0; y < p.rows; y++) {
      const from = ((p.firstRow + y) * width + p.left) * channels;
      u8.set(data.subarray(from, from + rowLen), inter + y * rowLen);
    }
  }
  if (v) k.vpass(inter, rowLen, out, p.height, vStarts, vPairs, vWeights, kpairs);
  return u8.slice(out, out + p.height * rowLen);
}
