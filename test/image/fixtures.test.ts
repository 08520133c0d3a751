import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocessImage } from '../../src/image/preprocess.js';
import { FIXTURES, readF32, readU8 } from '../helpers/fixtures.js';

interface ManifestImage {
  file: string;
  pil_format: string;
  pil_mode: string;
  width: number;
  height: number;
  rgb224: { file: string };
  pixel_values: { file: string };
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'preprocess', 'manifest.json'), 'utf8')) as { images: ManifestImage[] };

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('preprocessImage on the 16 golden fixture images', () => {
  it('has all 16 images', () => {
    expect(manifest.images).toHaveLength(16);
  });

  for (const im of manifest.images) {
    it(`${im.file}: rgb224 and pixel_values byte-identical to Pillow/torchvision`, async () => {
      const r = await preprocessImage(join(FIXTURES, im.file));
      expect(r.source).toEqual({ format: im.pil_format, mode: im.pil_mode, width: im.width, height: im.height });
      const rgb = readU8(join(FIXTURES, im.rgb224.file));
      expect(r.rgb224.length).toBe(224 * 224 * 3);
      expect(Buffer.compare(Buffer.from(r.rgb224), Buffer.from(rgb))).toBe(0);
      const pv = readF32(join(FIXTURES, im.pixel_values.file));
      expect(r.pixels.length).toBe(3 * 224 * 224);
      expect(Buffer.compare(Buffer.from(bytesOf(r.pixels)), Buffer.from(bytesOf(pv)))).toBe(0);
    });
  }

  it('gives the same bytes from a Uint8Array as from the path', async () => {
    const path = join(FIXTURES, 'images', 'synth_rgba_320x240.png');
    const a = await preprocessImage(path);
    const b = await preprocessImage(new Uint8Array(readFileSync(path)));
    expect(Buffer.from(b.rgb224).equals(Buffer.from(a.rgb224))).toBe(true);
    expect(Buffer.from(bytesOf(b.pixels)).equals(Buffer.from(bytesOf(a.pixels)))).toBe(true);
  });
});
