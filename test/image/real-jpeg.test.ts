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
  it('an Adobe APP14 segment shorter than 7 bytes is refused, as Pillow cannot open the file', async () => {
    await expectRefusal('jpeg_truncated_app14.jpg', /JPEG: truncated Adobe APP14 segment \(5 bytes; Pillow 9\.4 cannot open the file either\)/);
  });
});
