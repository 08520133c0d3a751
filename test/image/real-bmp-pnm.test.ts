import { describe, expect, it } from 'vitest';
import { embeddedByUpstream, expectRefusal, expectUpstreamBytes } from './real/goldens.js';

describe('BMP with Pillow 9.4 semantics (issue 12, class 5)', () => {
  const files = embeddedByUpstream((f) => f.startsWith('bmp_'));
  it('covers 1/4/8/16/24/32 bits, RLE4/RLE8, bitfields, top-down and OS/2 headers', () => {
    const names = files.map(([f]) => f);
    for (const f of [
      'bmp_1bit.bmp', 'bmp_p4.bmp', 'bmp_p8.bmp', 'bmp_rgb16_555.bmp', 'bmp_rgb24.bmp', 'bmp_bgra32_bi_rgb.bmp',
      'bmp_p4_rle4.bmp', 'bmp_p8_rle8.bmp', 'bmp_rgb16_565_bitfields.bmp', 'bmp_bgra32_bitfields_v4.bmp',
      'bmp_rgb24_top_down.bmp', 'bmp_p8_os2.bmp',
    ]) expect(names).toContain(f);
  });
  for (const [file, g] of files) {
    it(`${file}: ${g.mode} byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }
  it('bitfield masks Pillow does not list are refused, as Pillow refuses them', async () => {
    await expectRefusal('bmp_rgb16_bad_bitfields.bmp', /BMP: bitfield masks 0xf00, 0xf0, 0xf for 16 bits are a layout Pillow 9\.4 cannot read either/);
  });
  it('truncated pixel data is refused', async () => {
    await expectRefusal('bmp_truncated_pixels.bmp', /BMP: pixel data is truncated \(needs \d+ bytes, the file has \d+\)/);
  });
});

describe('PNM (P1–P6) with Pillow 9.4 semantics (issue 12, class 5)', () => {
  const files = embeddedByUpstream((f) => f.startsWith('pnm_'));
  it('covers P1–P6, maxval below and above 255', () => {
    const names = files.map(([f]) => f);
    for (const f of ['pnm_p1.pbm', 'pnm_p2.pgm', 'pnm_p3_maxval1000.ppm', 'pnm_p4.pbm', 'pnm_p5.pgm', 'pnm_p5_maxval100.pgm', 'pnm_p6.ppm', 'pnm_p6_maxval65535.ppm']) {
      expect(names).toContain(f);
    }
  });
  for (const [file, g] of files) {
    if (file === 'pnm_p5_maxval65535.pgm') continue;
    it(`${file}: ${g.mode} byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }
  it('greyscale above 8 bits (Pillow mode I, mostly white upstream) is refused', async () => {
    await expectRefusal('pnm_p5_maxval65535.pgm', /PNM: greyscale with maxval 65535 \(more than 8 bits\) is not supported: upstream \(Pillow\) opens it as 32-bit mode I/);
  });
  it('truncated pixel data is refused', async () => {
    await expectRefusal('pnm_p6_truncated.ppm', /PNM: pixel data is truncated/);
    await expectRefusal('pnm_p2_missing_samples.pgm', /PNM: pixel data is truncated \(2978 of 3008 samples\)/);
  });
});
