import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, LimitError, VbgeError } from '../../src/errors.js';
import { ImagePreprocessPool } from '../../src/image/pool.js';
import { preprocessImage } from '../../src/image/preprocess.js';
import { FIXTURES } from '../helpers/fixtures.js';

const images = ['wiki_candi_1.jpg', 'synth_rgba_320x240.png', 'synth_palette_400x300.png', 'synth_la_200x260.png', 'synth_small_50x40.png'];

describe('ImagePreprocessPool', () => {
  const pool = new ImagePreprocessPool({ workers: 2 });
  afterAll(() => pool.close());

  it('returns the same bytes as the direct call, for paths and bytes, in parallel', async () => {
    const paths = images.map((n) => join(FIXTURES, 'images', n));
    const viaPool = await Promise.all([
      ...paths.map((p) => pool.run(p)),
      ...paths.map((p) => pool.run(new Uint8Array(readFileSync(p)))),
    ]);
    for (let i = 0; i < viaPool.length; i++) {
      const direct = await preprocessImage(paths[i % paths.length]!);
      const got = viaPool[i]!;
      expect(got.pixels).toBeInstanceOf(Float32Array);
      expect(got.rgb224).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(got.rgb224).equals(Buffer.from(direct.rgb224))).toBe(true);
      expect(Buffer.from(got.pixels.buffer).equals(Buffer.from(direct.pixels.buffer))).toBe(true);
      expect(got.source).toEqual(direct.source);
    }
  });

  it('passes options through (EXIF orientation)', async () => {
    const p = join(FIXTURES, 'images', 'synth_exif_orient6.jpg');
    const a = await pool.run(p, { applyExifOrientation: true });
    const b = await preprocessImage(p, { applyExifOrientation: true });
    expect(Buffer.from(a.rgb224).equals(Buffer.from(b.rgb224))).toBe(true);
  });

  it('propagates typed errors with the same message', async () => {
    const text = new TextEncoder().encode('not an image');
    const direct = await preprocessImage(text, { inputName: 'input 7' }).then(() => new Error('resolved'), (e: unknown) => e as Error);
    const pooled = await pool.run(text, { inputName: 'input 7' }).then(() => new Error('resolved'), (e: unknown) => e as Error);
    expect(pooled).toBeInstanceOf(InputError);
    expect(pooled).not.toBeInstanceOf(LimitError);
    expect(pooled.message).toBe(direct.message);
    expect((pooled as InputError).input).toBe('input 7');

    const p = join(FIXTURES, 'images', 'synth_small_50x40.png');
    const directLimit = await preprocessImage(p, { maxPixels: 100 }).then(() => new Error('resolved'), (e: unknown) => e as Error);
    const pooledLimit = await pool.run(p, { maxPixels: 100 }).then(() => new Error('resolved'), (e: unknown) => e as Error);
    expect(pooledLimit).toBeInstanceOf(LimitError);
    expect(pooledLimit.message).toBe(directLimit.message);
    expect((pooledLimit as LimitError).limitName).toBe('image pixel count');
    expect((pooledLimit as LimitError).actual).toBe(2000);
    expect((pooledLimit as LimitError).limit).toBe(100);
  });

  it('rejects work after close', async () => {
    const p = new ImagePreprocessPool({ workers: 1 });
    const r = await p.run(join(FIXTURES, 'images', 'synth_small_50x40.png'));
    expect(r.pixels.length).toBe(3 * 224 * 224);
    await p.close();
    await expect(p.run(join(FIXTURES, 'images', 'synth_small_50x40.png'))).rejects.toThrow(VbgeError);
  });
});

describe('ImagePreprocessPool dispatch', () => {
  const p = join(FIXTURES, 'images', 'wiki_candi_1.jpg');

  it('hands a worker up to tasksPerWorker images at once, queueing the rest', async () => {
    for (const perWorker of [1, 2, 3]) {
      const pool = new ImagePreprocessPool({ workers: 1, tasksPerWorker: perWorker });
      try {
        const runs = Array.from({ length: 4 }, () => pool.run(p));
        expect(pool.inFlight).toBe(perWorker);
        const results = await Promise.all(runs);
        expect(pool.inFlight).toBe(0);
        const direct = await preprocessImage(p);
        for (const r of results) expect(Buffer.from(r.pixels.buffer).equals(Buffer.from(direct.pixels.buffer))).toBe(true);
      } finally {
        await pool.close();
      }
    }
  });

  it('an image that fails beside others in one worker fails alone', async () => {
    const pool = new ImagePreprocessPool({ workers: 1, tasksPerWorker: 4 });
    try {
      const bad = new TextEncoder().encode('not an image');
      const settled = await Promise.allSettled([pool.run(p), pool.run(bad, { inputName: 'input 1' }), pool.run(p)]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(InputError);
    } finally {
      await pool.close();
    }
  });

  it('rejects a tasksPerWorker that is not a positive integer', () => {
    expect(() => new ImagePreprocessPool({ tasksPerWorker: 0 })).toThrow(/tasksPerWorker must be a positive integer, got 0/);
    expect(() => new ImagePreprocessPool({ tasksPerWorker: 1.5 })).toThrow(RangeError);
  });
});

describe('large images', () => {
  it('are preprocessed one at a time on a thread, small ones beside them', async () => {
    const { LARGE_IMAGE_PIXELS, largeImages } = await import('../../src/image/preprocess.js');
    const sharp = (await import('sharp')).default;
    const side = Math.ceil(Math.sqrt(LARGE_IMAGE_PIXELS)) + 1;
    const large = new Uint8Array(await sharp({ create: { width: side, height: side, channels: 3, background: { r: 40, g: 90, b: 200 } } }).jpeg().toBuffer());
    const small = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'synth_small_50x40.png')));
    const runs = [preprocessImage(large), preprocessImage(small), preprocessImage(large)];
    for (let i = 0; i < 20 && largeImages.size < 2; i++) await new Promise((r) => setImmediate(r));
    expect(largeImages.size).toBe(2);
    const [a, , b] = await Promise.all(runs);
    expect(largeImages.size).toBe(0);
    expect(Buffer.from(a!.pixels.buffer).equals(Buffer.from(b!.pixels.buffer))).toBe(true);
    expect(a!.source).toEqual({ format: 'JPEG', mode: 'RGB', width: side, height: side });
  });
});
