/** Tensors as they are stored in checkpoint files, before any conversion. */

export type StoredDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const BYTES_PER_ELEMENT: Record<StoredDType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/**
 * One tensor of a checkpoint. `read()` returns its elements as contiguous little-endian bytes in
 * row-major order (strides already applied); readers may load lazily from the file.
 */
export interface StoredTensor {
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
  read(): Uint8Array;
}

/** A float32 tensor in row-major order. */
export interface F32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
