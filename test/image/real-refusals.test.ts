import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { preprocessImage } from '../../src/image/preprocess.js';
import { expectRefusal, expectUpstreamBytes, goldens, REAL } from './real/goldens.js';

/** Upstream refuses these because of broken metadata only; we embed them (documented leniency). */
const LENIENT = new Set(['png_ztxt_too_large.png']);

describe('other formats, leniency and truncation (issue 12, classes 5 and 6)', () => {
  for (const [file, format] of [
    ['other.ico', 'ICO'],
    ['other.pcx', 'PCX'],
    ['other.sgi', 'SGI'],
    ['other.tga', 'TGA'],
  ] as const) {
    it(`${file}: refused with the format named (${format})`, async () => {
      expect(goldens[file]?.format).toBe(format); // upstream reads it
      await expectRefusal(file, new RegExp(`${format} images are not supported \\(supported: JPEG, PNG, GIF, WebP, TIFF, BMP or PNM\\)`));
    });
  }

  it('every file upstream cannot embed is refused with an InputError, except the documented leniency', async () => {
    const failing = Object.entries(goldens).filter(([f, g]) => g.upstream_error && !LENIENT.has(f));
    expect(failing.length).toBeGreaterThanOrEqual(10);
    for (const [file] of failing) {
      const err = await preprocessImage(join(REAL, file)).catch((x: unknown) => x);
      expect(err, file).toBeInstanceOf(InputError);
    }
  });

  it('a PNG whose text chunk only trips Pillow\'s decompression guard gives the pixels of the repaired file', async () => {
    expect(goldens['png_ztxt_too_large.png']?.upstream_error).toMatch(/Decompressed Data Too Large/);
    await expectUpstreamBytes('png_ztxt_too_large.png', { ...goldens['png_plain.png']!, format: 'PNG' });
  });

  for (const file of ['png_no_iend.png', 'png_iend_cut.png', 'png_actl_without_fctl.png']) {
    it(`${file}: damaged or odd metadata, pixels as upstream`, async () => {
      await expectUpstreamBytes(file, goldens[file]!);
      expect(goldens[file]?.rgb224_sha256).toBe(goldens['png_plain.png']?.rgb224_sha256);
    });
  }

  it('PNG with truncated pixel data stays refused', async () => {
    await expectRefusal('png_truncated_pixels.png', /cannot decode PNG image/);
  });

  it('plain PNM missing samples: Pillow repeats the last sample when no newline follows it; so do we', async () => {
    await expectUpstreamBytes('pnm_p2_missing_samples_no_newline.pgm', goldens['pnm_p2_missing_samples_no_newline.pgm']!);
  });
});
