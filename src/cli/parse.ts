import { ConfigError } from '../errors.js';

export function parsePositiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${option} must be a positive integer; got "${value}"`);
  return n;
}
