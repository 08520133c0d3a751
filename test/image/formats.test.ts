import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { preprocessImage } from '../../src/image/preprocess.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** Samples written by make-sharp.ts and record.py, with Pillow 9.4's results recorded in expected.json. */
const DIR = join(dirname(fileURLToPath(import.meta.url)), 'formats');
interface Expected {
  format?: string;
  mode?: string;
  width?: number;
  height?: number;
  rgb224_sha256?: string;
  exif_transposed_rgb224_sha256?: string;
  pillow_error?: string;
}
const expected = (JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { files: Record<string, Expected> }).files;

/** Files we refuse on purpose, and the reason the error must give. */
const REFUSED: Record<string, RegExp> = {
  'sh_grey16.png': /16-bit greyscale PNG is not supported/,
  'sh.avif': /AVIF images are not supported/,
};

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('formats and modes, against Pillow 9.4 (test/image/formats/expected.json)', () => {
  it('covers the formats the issue lists', () => {
    const formats = new Set(Object.values(expected).map((e) => e.format));
    for (const f of ['PNG', 'JPEG', 'GIF', 'WEBP', 'TIFF', 'BMP']) expect(formats).toContain(f);
    const modes = new Set(Object.values(expected).map((e) => e.mode));
    for (const m of ['1', 'L', 'LA', 'P', 'RGB', 'RGBA', 'CMYK', 'I']) expect(modes).toContain(m);
  });

  for (const [file, e] of Object.entries(expected)) {
    const refusal = REFUSED[file];
    if (refusal) {
      it(`${file}: refused with a clear InputError`, async () => {
        const err = await preprocessImage(join(DIR, file)).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(InputError);
        expect((err as Error).message).toMatch(refusal);
        expect((err as Error).message.startsWith(join(DIR, file))).toBe(true);
      });
      continue;
    }
    it(`${file}: ${e.format} ${e.mode} handled exactly as Pillow`, async () => {
      const r = await preprocessImage(join(DIR, file));
      expect(r.source).toEqual({ format: e.format, mode: e.mode, width: e.width, height: e.height });
      expect(sha256(r.rgb224)).toBe(e.rgb224_sha256);
      if (e.exif_transposed_rgb224_sha256) {
        const o = await preprocessImage(join(DIR, file), { applyExifOrientation: true });
        expect(sha256(o.rgb224)).toBe(e.exif_transposed_rgb224_sha256);
      }
    });
  }
});

describe('formats made by sharp in the test', () => {
  const W = 90;
  const H = 70;
  const raw = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) raw.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, (i * 3) % 256], i * 4);
  const img = () => sharp(raw, { raw: { width: W, height: H, channels: 4 } });

  const cases: [string, () => Promise<Buffer>, string, string][] = [
    ['lossless WebP with alpha', () => img().webp({ lossless: true }).toBuffer(), 'WEBP', 'RGBA'],
    ['lossy WebP without alpha', () => img().removeAlpha().webp({ quality: 70 }).toBuffer(), 'WEBP', 'RGB'],
    ['GIF', () => img().removeAlpha().gif().toBuffer(), 'GIF', 'P'],
    ['deflate TIFF with alpha', () => img().tiff({ compression: 'deflate' }).toBuffer(), 'TIFF', 'RGBA'],
    ['16-bit RGB PNG', () => img().removeAlpha().toColourspace('rgb16').png().toBuffer(), 'PNG', 'RGB'],
    ['CMYK JPEG', () => img().removeAlpha().toColourspace('cmyk').jpeg().toBuffer(), 'JPEG', 'CMYK'],
    ['grey JPEG', () => img().removeAlpha().toColourspace('b-w').jpeg().toBuffer(), 'JPEG', 'L'],
  ];
  for (const [name, make, format, mode] of cases) {
    it(`${name} → ${format} ${mode}`, async () => {
      const r = await preprocessImage(new Uint8Array(await make()));
      expect(r.source).toEqual({ format, mode, width: W, height: H });
      expect(r.pixels.length).toBe(3 * 224 * 224);
      expect(r.pixels.every(Number.isFinite)).toBe(true);
    });
  }

  it('16-bit RGB PNG keeps the most significant byte of each sample (Pillow RGB;16B), not a rounded one', async () => {
    const u16 = new Uint16Array(W * H * 3);
    for (let i = 0; i < u16.length; i++) u16[i] = ((i * 40503) & 0xff00) | (i % 2 ? 0xc0 : 0x20);
    const png16 = await sharp(u16, { raw: { width: W, height: H, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).bitsPerSample).toBe(16);
    const msb = Buffer.from(Uint8Array.from(u16, (v) => v >> 8));
    const a = await preprocessImage(new Uint8Array(png16));
    const b = await preprocessImage(new Uint8Array(await sharp(msb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()));
    expect(a.source.mode).toBe('RGB');
    expect(Buffer.from(a.rgb224).equals(Buffer.from(b.rgb224))).toBe(true);
  });
});

describe('recognises the format by content, not by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vbge-img-'));

  it('a JPEG named .png decodes as JPEG', async () => {
    const r = await preprocessImage(join(FIXTURES, 'images', 'cir_query.png'));
    expect(r.source.format).toBe('JPEG');
  });

  it('a text file named .jpg is an InputError naming the input', async () => {
    const p = join(dir, 'notes.jpg');
    writeFileSync(p, 'hello, this is not an image\n');
    const err = await preprocessImage(p, { inputName: 'input 3 (image notes.jpg)' }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('input 3 (image notes.jpg)');
    expect((err as Error).message).toMatch(/^input 3 \(image notes\.jpg\): not a supported image/);
  });

  it('a missing file is an InputError', async () => {
    await expect(preprocessImage(join(dir, 'nope.png'))).rejects.toThrow(InputError);
  });
});
