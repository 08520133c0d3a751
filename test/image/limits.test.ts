import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError, LimitError } from '../../src/errors.js';
import { preprocessImage } from '../../src/image/preprocess.js';
import { LIMITS } from '../../src/limits.js';
import { FIXTURES } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-limits-'));

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const v of b) {
    c ^= v;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A PNG whose header claims width×height but carries only a few bytes of image data. */
function bombPng(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('limits and broken files', () => {
  it('a header claiming 100000×100000 pixels is a LimitError before decoding', async () => {
    // The side limit is checked on the header; decoding 10^10 pixels would fail on memory instead.
    const err = await preprocessImage(bombPng(100_000, 100_000), { inputName: 'bomb.png' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(LimitError);
    const e = err as LimitError;
    expect(e.input).toBe('bomb.png');
    expect(e.limit).toBe(LIMITS.maxImageSide);
    expect(e.message).toMatch(/^bomb\.png: image side/);
  });

  it('a pixel count over the limit is a LimitError naming the limit', async () => {
    const err = await preprocessImage(bombPng(20_000, 20_000)).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limitName).toBe('image pixel count');
    expect((err as LimitError).actual).toBe(400_000_000);
    expect((err as LimitError).limit).toBe(LIMITS.maxImagePixels);
    const small = await preprocessImage(join(FIXTURES, 'images', 'synth_small_50x40.png'), { maxPixels: 1999 }).catch((x: unknown) => x);
    expect(small).toBeInstanceOf(LimitError);
    expect((small as LimitError).message).toContain('image pixel count is 2000, the limit is 1999');
  });

  it('a file over the byte limit is a LimitError, for paths and for bytes', async () => {
    const path = join(FIXTURES, 'images', 'synth_small_50x40.png');
    const err = await preprocessImage(path, { maxFileBytes: 1000 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limitName).toBe('image file size (bytes)');
    expect((err as LimitError).actual).toBe(4737);
    await expect(preprocessImage(new Uint8Array(readFileSync(path)), { maxFileBytes: 1000 })).rejects.toThrow(LimitError);
  });

  it('a zero-byte file is an InputError', async () => {
    const p = join(dir, 'empty.jpg');
    writeFileSync(p, '');
    await expect(preprocessImage(p)).rejects.toThrow(/empty \(0 bytes\)/);
    await expect(preprocessImage(new Uint8Array(0))).rejects.toThrow(InputError);
  });

  it('truncated JPEG and PNG files are InputErrors, as Pillow raises on them', async () => {
    for (const name of ['synth_baseline_q90.jpg', 'synth_progressive_q90.jpg', 'synth_grey_256x300.png', 'synth_rgba_320x240.png']) {
      const bytes = readFileSync(join(FIXTURES, 'images', name));
      for (const keep of [0.5, 0.9, 0.99]) {
        const cut = new Uint8Array(bytes.subarray(0, Math.floor(bytes.length * keep)));
        const err = await preprocessImage(cut, { inputName: name }).catch((x: unknown) => x);
        expect(err, `${name} cut at ${keep}`).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}: `));
      }
    }
    const header = readFileSync(join(FIXTURES, 'images', 'synth_baseline_q90.jpg')).subarray(0, 20);
    await expect(preprocessImage(new Uint8Array(header))).rejects.toThrow(/no frame header/);
  });

  it('extreme aspect ratios are resized without materialising the huge intermediate', async () => {
    const tall = await sharp({ create: { width: 2, height: 20_000, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toBuffer();
    const r = await preprocessImage(new Uint8Array(tall));
    expect(r.source).toEqual({ format: 'PNG', mode: 'RGB', width: 2, height: 20_000 });
    expect(r.rgb224.subarray(0, 3)).toEqual(new Uint8Array([10, 200, 30]));
  });
});

describe('EXIF orientation', () => {
  const file = join(FIXTURES, 'images', 'synth_exif_orient6.jpg');

  it('is ignored by default, as upstream does (matches the fixture)', async () => {
    const r = await preprocessImage(file);
    const expected = readFileSync(join(FIXTURES, 'preprocess', 'synth_exif_orient6.rgb224.u8'));
    expect(Buffer.from(r.rgb224).equals(expected)).toBe(true);
  });

  it('is applied on request: the result is that of the upright image', async () => {
    const upright = await sharp(readFileSync(file)).rotate().png().toBuffer(); // sharp's auto-orient
    const meta = await sharp(upright).metadata();
    expect([meta.width, meta.height]).toEqual([200, 300]);
    const a = await preprocessImage(file, { applyExifOrientation: true });
    const b = await preprocessImage(new Uint8Array(upright));
    expect(Buffer.from(a.rgb224).equals(Buffer.from(b.rgb224))).toBe(true);
    const d = await preprocessImage(file);
    expect(Buffer.from(a.rgb224).equals(Buffer.from(d.rgb224))).toBe(false);
  });
});
