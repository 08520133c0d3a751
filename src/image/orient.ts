/**
 * EXIF orientation (tags 1–8) as a pixel permutation, matching Pillow's `ImageOps.exif_transpose`.
 * Upstream never applies it; `PreprocessOptions.applyExifOrientation` opts in.
 */
import type { Raster } from './resample.js';

export function applyOrientation(src: Raster, orientation: number): Raster {
  if (!(orientation >= 2 && orientation <= 8)) return src;
  const { data, width: w, height: h, channels: c } = src;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break; // mirror horizontally
        case 3: sx = w - 1 - x; sy = h - 1 - y; break; // rotate 180°
        case 4: sx = x; sy = h - 1 - y; break; // mirror vertically
        case 5: sx = y; sy = x; break; // transpose
        case 6: sx = y; sy = h - 1 - x; break; // rotate 90° clockwise
        case 7: sx = w - 1 - y; sy = h - 1 - x; break; // transverse
        default: sx = w - 1 - y; sy = x; break; // 8: rotate 90° counter-clockwise
      }
      const p = (sy * w + sx) * c;
      for (let k = 0; k < c; k++) out[o++] = data[p + k]!;
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}
