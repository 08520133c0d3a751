/**
 * The real-world samples of issue 12 (written by record.py in this folder) and upstream's recorded
 * preprocess_val results (Pillow 9.4 + torchvision 0.14) in goldens.json: sha256 of the uint8
 * 224×224 RGB image and of the float32 pixel_values tensor, or the error upstream raises.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { preprocessImage } from '../../../src/image/preprocess.js';

export const REAL = dirname(fileURLToPath(import.meta.url));

export interface Golden {
  format?: string;
  mode?: string;
  width?: number;
  height?: number;
  rgb224_sha256?: string;
  pixel_values_sha256?: string;
  upstream_error?: string;
}

export const goldens = (JSON.parse(readFileSync(join(REAL, 'goldens.json'), 'utf8')) as { files: Record<string, Golden> }).files;

/** Files upstream embeds, whose names match. */
export function embeddedByUpstream(match: (file: string) => boolean): [string, Golden][] {
  return Object.entries(goldens).filter(([f, g]) => match(f) && !g.upstream_error);
}

/** Pillow's names for modes we decode under another name (same pixels after convert('RGB')). */
const SAME_MODE: Record<string, string> = { RGBX: 'RGB' };

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Our preprocessing of `file` gives upstream's bytes: the uint8 image and the float32 tensor. */
export async function expectUpstreamBytes(file: string, g: Golden): Promise<void> {
  const r = await preprocessImage(join(REAL, file));
  expect(r.source).toEqual({ format: g.format, mode: SAME_MODE[g.mode ?? ''] ?? g.mode, width: g.width, height: g.height });
  expect(sha256(r.rgb224)).toBe(g.rgb224_sha256);
  expect(sha256(new Uint8Array(r.pixels.buffer, r.pixels.byteOffset, r.pixels.byteLength))).toBe(g.pixel_values_sha256);
}

/** `file` is refused with an InputError that starts with its path and gives `reason`. */
export async function expectRefusal(file: string, reason: RegExp): Promise<void> {
  expect(goldens[file], `${file} is a recorded sample`).toBeDefined();
  const err = await preprocessImage(join(REAL, file)).catch((x: unknown) => x);
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message.startsWith(`${join(REAL, file)}: `)).toBe(true);
  expect((err as Error).message).toMatch(reason);
}
