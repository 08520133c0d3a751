/**
 * A fixed set of inputs — texts of several lengths and scripts, synthetic images in several
 * formats, modes and sizes, and composed pairs — whose embeddings fingerprint a model on a
 * machine. Images are generated from a seeded PRNG, so nothing is downloaded or shipped.
 */
import sharp from 'sharp';
import type { EncodeInput } from './encoder.js';
import { prng } from './util/prng.js';

/** A photo-like raster: smooth gradients, a few discs, and noise. */
function syntheticPixels(width: number, height: number, channels: 3 | 4, seed: number): Buffer {
  const rand = prng(seed);
  const discs = Array.from({ length: 5 }, () => ({ x: rand() * width, y: rand() * height, r: 10 + rand() * Math.min(width, height) * 0.3, c: [rand(), rand(), rand()] }));
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      let rgb = [x / width, y / height, 0.5 + 0.5 * Math.sin((x + y) / 17)];
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) rgb = d.c;
      for (let c = 0; c < 3; c++) out[o + c] = Math.max(0, Math.min(255, Math.round(rgb[c]! * 230 + rand() * 25)));
      if (channels === 4) out[o + 3] = Math.round((x / width) * 255);
    }
  }
  return out;
}

async function image(width: number, height: number, format: 'png' | 'jpeg', channels: 3 | 4, seed: number): Promise<Uint8Array> {
  const s = sharp(syntheticPixels(width, height, channels, seed), { raw: { width, height, channels } });
  const buf = format === 'png' ? await s.png({ compressionLevel: 6 }).toBuffer() : await s.jpeg({ quality: 90 }).toBuffer();
  return new Uint8Array(buf);
}

export async function canaryInputs(): Promise<EncodeInput[]> {
  const photo = await image(640, 480, 'jpeg', 3, 1);
  const portrait = await image(300, 500, 'png', 3, 2);
  const alpha = await image(320, 240, 'png', 4, 3);
  const square = await image(224, 224, 'png', 3, 4);
  const small = await image(50, 40, 'png', 3, 5);
  return [
    { name: 'canary text short', text: 'a dog' },
    { name: 'canary text sentence', text: 'A red car parked next to the old building, at night.' },
    { name: 'canary text empty', text: '' },
    { name: 'canary text multilingual', text: 'une photo d’un chat — 一只猫坐在桌子上 — 日本の猫の写真 ☃ 🐱' },
    { name: 'canary text long', text: 'a large group of young people standing in front of an old white house near the river '.repeat(6) },
    { name: 'canary image jpeg 640x480', image: photo },
    { name: 'canary image png 300x500', image: portrait },
    { name: 'canary image rgba 320x240', image: alpha },
    { name: 'canary image 224x224', image: square },
    { name: 'canary image 50x40', image: small },
    { name: 'canary composed short', image: photo, text: 'make the background dark' },
    { name: 'canary composed empty', image: alpha, text: '' },
    { name: 'canary composed long', image: portrait, text: 'the same scene but in winter with snow on the ground and people wearing coats' },
  ];
}
