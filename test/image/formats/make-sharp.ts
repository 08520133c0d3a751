/**
 * Writes the sharp-made format samples in this folder (run: npx tsx test/image/formats/make-sharp.ts),
 * before `record.py` writes the Pillow-made ones and records Pillow 9.4's results for all of them.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const dir = dirname(fileURLToPath(import.meta.url));
const W = 150;
const H = 110;
const rgba = Buffer.alloc(W * H * 4);
const u16 = new Uint16Array(W * H * 4);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const i = y * W + x;
    const r = (x * 3 + y) % 256;
    const g = (y * 2 + Math.floor((x * x) / 97)) % 256;
    const b = ((x ^ y) * 5) % 256;
    rgba.set([r, g, b, Math.floor((x * 255) / W)], i * 4);
    // Low bytes ≥ 128 in places, so truncating and rounding 16 → 8 bits differ.
    u16.set([r * 256 + ((x * 37) % 256), g * 256 + ((y * 71) % 256), b * 256 + 200, (x * 65535) / W], i * 4);
  }
}
const s4 = () => sharp(rgba, { raw: { width: W, height: H, channels: 4 } });
const s3 = () => s4().removeAlpha();
// A Uint16Array input is read as 16-bit samples.
const s16 = () => sharp(u16, { raw: { width: W, height: H, channels: 4 } });
const out = (name: string) => `${dir}/${name}`;

await s16().toColourspace('rgb16').png().toFile(out('sh_rgba16.png'));
await s16().removeAlpha().toColourspace('rgb16').png().toFile(out('sh_rgb16.png'));
await s16().removeAlpha().toColourspace('grey16').png().toFile(out('sh_grey16.png'));
await s3().jpeg({ quality: 90 }).withIccProfile('p3').toFile(out('sh_p3.jpg'));
await s3().png().withIccProfile('p3').toFile(out('sh_p3.png'));
await s3().toColourspace('cmyk').jpeg({ quality: 90 }).toFile(out('sh_cmyk.jpg'));
await s4().gif().toFile(out('sh_rgba.gif'));
await s4().png({ palette: true, colours: 50 }).toFile(out('sh_palette_alpha.png'));
await s4().webp({ quality: 80 }).toFile(out('sh_rgba.webp'));
await s3().tiff({ compression: 'jpeg' }).toFile(out('sh_rgb_jpeg.tif'));
await s3().avif().toFile(out('sh.avif'));
