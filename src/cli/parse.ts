import { ConfigError } from '../errors.js';
import { LIMITS } from '../limits.js';

export function parsePositiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${option} must be a positive integer; got "${value}"`);
  return n;
}

/** `--threads N`: a positive integer up to `LIMITS.maxThreads`. */
export function parseThreads(value: string, option = '--threads'): number {
  const n = parsePositiveInt(value, option);
  if (n > LIMITS.maxThreads) throw new ConfigError(`${option} is ${n}, the limit is ${LIMITS.maxThreads}`);
  return n;
}
