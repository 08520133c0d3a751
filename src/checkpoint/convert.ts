import type { StoredDType } from './tensor.js';

/** Exact IEEE binary16 → binary32 table (subnormals, infinities and NaNs included). */
const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24; // subnormal: frac × 2^-14 × 2^-10
    else if (exp === 31) v = frac === 0 ? Infinity : NaN;
    else v = (1024 + frac) * 2 ** (exp - 25);
    table[h] = sign * v;
  }
  return table;
})();

/**
 * Converts stored little-endian elements to float32. fp16 and bf16 widen exactly; float64 rounds
 * to nearest (as torch's `.float()` does); integers convert exactly up to 2^24.
 */
export function toFloat32(dtype: StoredDType, bytes: Uint8Array): Float32Array {
  const fast = toFloat32Aligned(dtype, bytes);
  if (fast) return fast;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = HALF_TO_FLOAT[view.getUint16(i * 2, true)]!;
      return out;
    }
    case 'bfloat16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'float64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'int64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    }
    case 'int32': {
      const out = new Float32Array(bytes.byteLength / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'int16': {
      const out = new Float32Array(bytes.byteLength / 2);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'int8': {
      const out = new Float32Array(bytes.byteLength);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'uint8':
    case 'bool':
      return Float32Array.from(bytes);
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * The common cases (float32/float16/bfloat16 on a little-endian host, element-aligned bytes)
 * through typed-array views: the same values as the DataView path, several times faster on the
 * ~10^9-element checkpoints. Returns undefined when the general path must be used.
 */
function toFloat32Aligned(dtype: StoredDType, bytes: Uint8Array): Float32Array | undefined {
  if (!LITTLE_ENDIAN_HOST) return undefined;
  switch (dtype) {
    case 'float32':
      if (bytes.byteOffset % 4 !== 0 || bytes.byteLength % 4 !== 0) return undefined;
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    case 'float16': {
      if (bytes.byteOffset % 2 !== 0 || bytes.byteLength % 2 !== 0) return undefined;
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = HALF_TO_FLOAT[src[i]!]!;
      return out;
    }
    case 'bfloat16': {
      if (bytes.byteOffset % 2 !== 0 || bytes.byteLength % 2 !== 0) return undefined;
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      const out = new Float32Array(src.length);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) u32[i] = src[i]! << 16;
      return out;
    }
    default:
      return undefined;
  }
}

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

/**
 * The IEEE binary16 bits of `x` rounded to float32 and then to half precision with
 * round-to-nearest-even (as torch's `Tensor.half()`): subnormals kept, overflow to ±Infinity.
 */
export function float32ToFloat16Bits(x: number): number {
  F32_SCRATCH[0] = x;
  const b = U32_SCRATCH[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may round up to Infinity: correct
  return sign | h;
}

/** Rounds float32 values to float16 (nearest-even) and returns their little-endian bytes. */
export function toFloat16Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16Bits(values[i]!), true);
  return out;
}
