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
