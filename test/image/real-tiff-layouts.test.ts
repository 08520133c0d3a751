import { describe, expect, it } from 'vitest';
import { embeddedByUpstream, expectRefusal, expectUpstreamBytes } from './real/goldens.js';

/** TIFF layouts upstream embeds but whose Pillow result we do not reproduce: refused, and why. */
const TIFF_REFUSALS: Record<string, RegExp> = {
  'tiff_f32.tif': /TIFF: floating-point samples are not supported \(Pillow mode F\)/,
  'tiff_i16s.tif': /TIFF: signed integer samples are not supported \(Pillow mode I\)/,
  'tiff_i32s.tif': /TIFF: signed integer samples are not supported \(Pillow mode I\)/,
  'tiff_lab.tif': /TIFF: CIE Lab colour is not supported/,
  'tiff_pa.tif': /TIFF: palette images with alpha are not supported \(Pillow mode PA resizes palette indices\)/,
  'tiff_rgba16_assoc.tif': /TIFF: associated \(premultiplied\) alpha is not supported: our decoder un-premultiplies it differently from Pillow/,
  'tiff_rgba_assoc.tif': /TIFF: associated \(premultiplied\) alpha is not supported/,
  'tiff_ycbcr_jpeg_corrupt.tif': /TIFF: the JPEG-compressed data is corrupt \(libjpeg warns; Pillow's libtiff recovers from corrupt data differently, so we refuse\)/,
  'tiff_cmyk_jpeg.tif': /TIFF: JPEG compression is supported for grey, RGB and YCbCr only \(photometric 5/,
};

/** TIFF layouts upstream cannot embed either. */
const UPSTREAM_FAILS: Record<string, RegExp> = {
  'tiff_i16.tif': /TIFF: 16-bit greyscale is not supported: upstream \(Pillow 9\.4\) cannot resize it \("image has wrong mode"\)/,
  'tiff_i16_mm.tif': /TIFF: 16-bit greyscale is not supported: upstream \(Pillow 9\.4\) cannot resize it/,
  'tiff_i8s.tif': /TIFF: signed integer samples are not supported/,
  'tiff_p_colormap_cut.tif': /TIFF: palette image without a readable colour map \(Pillow cannot open it either\)/,
  'tiff_strip_offsets_past_end.tif': /TIFF: uncompressed pixel data is truncated \(a strip at byte \d+ needs 8100 bytes; the file has \d+\)/,
  'tiff_truncated_pixels.tif': /TIFF: uncompressed pixel data is truncated/,
  'tiff_ycbcr_raw.tif': /TIFF: YCbCr without JPEG compression is not supported/,
  'tiff_la_planar.tif': /TIFF: planar \(separate\) sample layout is supported for 8-bit grey, RGB and RGBA only/,
  'tiff_la_assoc.tif': /TIFF: photometric 1, 2 samples of 8\/8 bits, extra samples 1 is a layout Pillow 9\.4 cannot open either/,
};

describe('TIFF sample layouts (issue 12, class 4)', () => {
  const files = embeddedByUpstream((f) => f.startsWith('tiff_') && !f.includes('orient') && !TIFF_REFUSALS[f]);
  it('reads 2/4-bit grey, MinIsWhite, 16-bit RGB(A), planar, JPEG-compressed and big-endian files', () => {
    const names = files.map(([f]) => f);
    for (const f of ['tiff_grey2.tif', 'tiff_grey4_miniswhite_mm.tif', 'tiff_1bit_miniswhite.tif', 'tiff_l_miniswhite.tif', 'tiff_rgb16_mm.tif', 'tiff_rgba16.tif', 'tiff_rgb_planar_71x53.tif', 'tiff_ycbcr_jpeg_q50_71x53.tif', 'tiff_l_jpeg_71x53.tif']) {
      expect(names).toContain(f);
    }
  });
  for (const [file, g] of files) {
    it(`${file}: ${g.mode} byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }
  for (const [file, reason] of Object.entries(TIFF_REFUSALS)) {
    it(`${file}: refused (upstream embeds it; we do not reproduce its pixels)`, async () => {
      await expectRefusal(file, reason);
    });
  }
  for (const [file, reason] of Object.entries(UPSTREAM_FAILS)) {
    it(`${file}: refused, as upstream fails on it too`, async () => {
      await expectRefusal(file, reason);
    });
  }
});
