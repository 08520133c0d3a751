import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocessImage } from '../../src/image/preprocess.js';
import { embeddedByUpstream, expectUpstreamBytes, goldens, REAL } from './real/goldens.js';

describe('TIFF Orientation applied on load, resize target from the stored size (issue 12, class 3)', () => {
  it('covers orientations 1–8 for grey and RGB, uncompressed and LZW', () => {
    for (let o = 1; o <= 8; o++) {
      for (const variant of ['l_raw', 'l_lzw', 'rgb_raw', 'rgb_lzw']) {
        expect(goldens[`tiff_orient${o}_${variant}.tif`]?.pixel_values_sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });
  for (const [file, g] of embeddedByUpstream((f) => f.includes('orient'))) {
    it(`${file}: byte-identical with upstream`, async () => {
      await expectUpstreamBytes(file, g);
    });
  }

  it('orientations 5–8 squash: the transposed image is resized to the stored aspect ratio', async () => {
    // 60×45 stored: torchvision asks for 298×224, whatever the orientation.
    const upright = await preprocessImage(join(REAL, 'tiff_orient1_rgb_raw.tif'));
    const turned = await preprocessImage(join(REAL, 'tiff_orient6_rgb_raw.tif'));
    const opted = await preprocessImage(join(REAL, 'tiff_orient6_rgb_raw.tif'), { applyExifOrientation: true });
    expect(turned.source).toEqual({ format: 'TIFF', mode: 'RGB', width: 60, height: 45 });
    expect(Buffer.from(turned.rgb224).equals(Buffer.from(upright.rgb224))).toBe(false);
    // Opting in transposes first and keeps the aspect ratio: a different image again.
    expect(Buffer.from(opted.rgb224).equals(Buffer.from(turned.rgb224))).toBe(false);
  });

  it('the short side already 224 still goes through the squashing resize (torchvision never skips it)', async () => {
    const g = goldens['tiff_orient6_rgb_300x224_lzw.tif'];
    expect(g?.width).toBe(300);
    expect(g?.height).toBe(224);
    await expectUpstreamBytes('tiff_orient6_rgb_300x224_lzw.tif', g!);
  });
});
