import { describe, expect, it } from 'vitest';
import { embeddedByUpstream, expectRefusal, expectUpstreamBytes } from './real/goldens.js';

describe('BigTIFF: read as Pillow 9.4 reads it (issue 12, class 2)', () => {
  // BigTIFF with an Orientation tag is checked with the orientation samples.
  const files = embeddedByUpstream((f) => f.startsWith('bigtiff_') && !f.includes('orient'));
  it('has the samples', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });
  for (const [file, g] of files) {
    it(`${file}: byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }
  it('big-endian BigTIFF is refused: Pillow 9.4 misreads its header and cannot open it', async () => {
    await expectRefusal('bigtiff_mm_rgb_lzw.tif', /TIFF: big-endian BigTIFF is not supported \(Pillow 9\.4 cannot open it either\)/);
  });
});
