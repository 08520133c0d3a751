/** Types shared by the TypeScript resampler (resample.ts) and its WebAssembly SIMD host (resample-simd.ts). */

/** An interleaved 8-bit image: `data.length === width * height * channels`. */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Per-output-pixel taps along one axis: source start, tap count and fixed-point weights. */
export interface AxisCoefficients {
  /** Buffer width per output pixel in `weights` (Pillow's `ksize`). */
  ksize: number;
  /** First source index per output pixel. */
  start: Int32Array;
  /** Number of taps per output pixel. */
  count: Int32Array;
  /** `count * ksize` weights in 22-bit fixed point. */
  weights: Int32Array;
}
