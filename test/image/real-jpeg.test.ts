import { describe, expect, it } from 'vitest';
import { embeddedByUpstream, expectRefusal, expectUpstreamBytes } from './real/goldens.js';

describe('JPEG with stray bytes between segments: decoded as libjpeg and Pillow do (issue 12, class 1)', () => {
  const files = embeddedByUpstream((f) => f.startsWith('jpeg_'));
  it('has the samples', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });
  for (const [file, g] of files) {
    it(`${file}: byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }
  it('headers Pillow cannot parse are refused, wherever the segment sits', async () => {
    await expectRefusal('jpeg_truncated_app14.jpg', /JPEG: truncated Adobe APP14 segment \(5 bytes; Pillow 9\.4 cannot open the file either\)/);
    await expectRefusal('jpeg_short_jfif_after_sof.jpg', /JPEG: truncated JFIF APP0 segment \(4 bytes; Pillow 9\.4 cannot open the file either\)/);
    await expectRefusal('jpeg_tem_marker.jpg', /JPEG: unknown marker 0xFF01 at byte \d+ \(Pillow cannot open the file either\)/);
    await expectRefusal('jpeg_bad_dqt.jpg', /JPEG: bad quantisation table at byte \d+ \(Pillow cannot open the file either\)/);
  });
});
