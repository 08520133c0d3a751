/** Messages between `ImagePreprocessPool` and its workers, and the error round trip. */
import { InputError, LimitError } from '../errors.js';
import type { PreprocessedImage, PreprocessOptions } from './preprocess.js';

export interface PoolRequest {
  id: number;
  input: string | Uint8Array;
  options: PreprocessOptions;
}

export interface SerializedError {
  name: string;
  message: string;
  input?: string;
  limitName?: string;
  actual?: number;
  limit?: number;
}

export type PoolResponse = { id: number; ok: true; result: PreprocessedImage } | { id: number; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof LimitError) {
    return { name: 'LimitError', message: err.message, input: err.input, limitName: err.limitName, actual: err.actual, limit: err.limit };
  }
  if (err instanceof InputError) return { name: 'InputError', message: err.message, input: err.input };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message };
}

/** Rebuilds the typed error with the worker's exact message. */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  if (s.name === 'LimitError') {
    err = new LimitError(s.input ?? '', s.limitName ?? '', s.actual ?? 0, s.limit ?? 0);
  } else if (s.name === 'InputError') {
    err = new InputError(s.input ?? '', '');
  } else {
    err = new Error(s.message);
    err.name = s.name;
  }
  err.message = s.message;
  return err;
}
