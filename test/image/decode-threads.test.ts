import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeThreads } from '../../src/image/decode.js';
import { ImagePreprocessPool } from '../../src/image/pool.js';
import { FIXTURES } from '../helpers/fixtures.js';

/**
 * libvips decodes an image alone with every core and images side by side with the cores shared
 * among them (src/image/decode.ts). Its threads must never change a decoded pixel, and the setting
 * must survive sharp's own one-thread default, which sharp applies to the whole process whenever
 * another thread (an image worker) loads it.
 */
const FORMATS = join(dirname(fileURLToPath(import.meta.url)), 'formats');
const samples = [
  ...readdirSync(FORMATS).filter((f) => /\.(jpe?g|png|gif|webp|tiff?)$/i.test(f)).map((f) => join(FORMATS, f)),
  join(FIXTURES, 'images', 'wiki_candi_1.jpg'),
];
const limits = { inputName: 'sample', maxPixels: 1e8, maxFileBytes: 1e9 };

async function decodeAll(threads: number): Promise<Map<string, Buffer | string>> {
  sharp.concurrency(threads);
  const out = new Map<string, Buffer | string>();
  for (const file of samples) {
    const decoded = await decodeImage(new Uint8Array(readFileSync(file)), limits).catch((err: Error) => err.message);
    out.set(file, typeof decoded === 'string' ? decoded : Buffer.from(decoded.data));
  }
  return out;
}

describe('libvips threads', () => {
  afterAll(() => void sharp.concurrency(availableParallelism()));

  it('the decoding module gives libvips every core', () => {
    expect(sharp.concurrency()).toBe(availableParallelism());
  });

  it('decodes side by side share the cores: every core for one, one thread each from as many as there are cores', () => {
    const cores = availableParallelism();
    expect(decodeThreads(1)).toBe(cores);
    expect(decodeThreads(0)).toBe(cores);
    expect(decodeThreads(cores)).toBe(1);
    expect(decodeThreads(cores * 4)).toBe(1);
    if (cores >= 4) expect(decodeThreads(2)).toBe(Math.floor(cores / 2));
  });

  it('one thread and four decode every sample format to the same bytes (or the same refusal)', async () => {
    expect(samples.length).toBeGreaterThan(20);
    const one = await decodeAll(1);
    const four = await decodeAll(4);
    expect([...one.values()].filter((v) => typeof v !== 'string').length).toBeGreaterThan(20);
    for (const file of samples) {
      const [a, b] = [one.get(file)!, four.get(file)!];
      expect(typeof a === 'string' ? a === b : Buffer.isBuffer(b) && a.equals(b), file).toBe(true);
    }
  });

  it('an image worker loading sharp leaves libvips with every core', async () => {
    sharp.concurrency(availableParallelism());
    const pool = new ImagePreprocessPool({ workers: 1 });
    try {
      await pool.run(join(FIXTURES, 'images', 'wiki_candi_1.jpg'));
    } finally {
      await pool.close();
    }
    expect(sharp.concurrency()).toBe(availableParallelism());
  });
});
