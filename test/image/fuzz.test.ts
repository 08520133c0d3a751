import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { ImagePreprocessPool } from '../../src/image/pool.js';
import type { PreprocessedImage } from '../../src/image/preprocess.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { REAL } from './real/goldens.js';
import { prng } from '../../src/util/prng.js';

const CASES = 2000;
const SEED = 0x5eed1234;
const PER_CASE_TIMEOUT_MS = 20_000;
const IN_FLIGHT = 8;


async function baseImages(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const W = 48;
  const H = 40;
  const raw = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) raw.set([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256, 64 + (i % 192)], i * 4);
  const img = () => sharp(raw, { raw: { width: W, height: H, channels: 4 } });
  const made: [string, Promise<Buffer>][] = [
    ['rgba.png', img().png().toBuffer()],
    ['rgb.png', img().removeAlpha().png({ compressionLevel: 9 }).toBuffer()],
    ['palette.png', img().png({ palette: true, colours: 16 }).toBuffer()],
    ['grey.png', img().removeAlpha().toColourspace('b-w').png().toBuffer()],
    ['baseline.jpg', img().removeAlpha().jpeg({ quality: 85 }).toBuffer()],
    ['progressive.jpg', img().removeAlpha().jpeg({ quality: 85, progressive: true }).toBuffer()],
    ['cmyk.jpg', img().removeAlpha().toColourspace('cmyk').jpeg().toBuffer()],
    ['anim.gif', img().gif().toBuffer()],
    ['lossy.webp', img().webp({ quality: 60 }).toBuffer()],
    ['lossless.webp', img().webp({ lossless: true }).toBuffer()],
    ['deflate.tif', img().tiff({ compression: 'deflate' }).toBuffer()],
  ];
  const out = await Promise.all(made.map(async ([name, p]) => ({ name, bytes: new Uint8Array(await p) })));
  for (const f of ['synth_small_50x40.png', 'synth_la_200x260.png', 'synth_exif_orient6.jpg']) {
    out.push({ name: f, bytes: new Uint8Array(readFileSync(join(FIXTURES, 'images', f))) });
  }
  // Our own BMP and PNM decoders, the TIFF directory reader and the JPEG marker scan.
  for (const f of [
    'bmp_p8_rle8.bmp',
    'bmp_p4_rle4.bmp',
    'bmp_rgb16_565_bitfields.bmp',
    'bmp_rgba32_bitfields_v5_top_down.bmp',
    'pnm_p3_maxval1000.ppm',
    'pnm_p1.pbm',
    'pnm_p6_maxval1023.ppm',
    'bigtiff_l_lzw.tif',
    'tiff_orient6_rgb_lzw.tif',
    'jpeg_junk_before_sof.jpg',
  ]) {
    out.push({ name: f, bytes: new Uint8Array(readFileSync(join(REAL, f))) });
  }
  return out;
}

function mutate(src: Uint8Array, rnd: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = new Uint8Array(src);
  switch (int(6)) {
    case 0: {
      const n = 1 + int(8);
      for (let k = 0; k < n; k++) b[int(b.length)]! ^= 1 << int(8);
      return { bytes: b, how: `${n} bit flips` };
    }
    case 1: {
      const n = 1 + int(4);
      for (let k = 0; k < n; k++) b[int(Math.min(64, b.length))]! ^= 1 << int(8);
      return { bytes: b, how: `${n} header bit flips` };
    }
    case 2: {
      const len = int(b.length);
      return { bytes: b.subarray(0, len), how: `truncated to ${len}` };
    }
    case 3: {
      const at = int(b.length);
      const len = 1 + int(64);
      for (let k = at; k < Math.min(b.length, at + len); k++) b[k] = int(256);
      return { bytes: b, how: `random bytes at ${at}+${len}` };
    }
    case 4: {
      const at = int(Math.min(40, b.length));
      const v = [0x00, 0xff, 0x7f, 0x80][int(4)]!;
      for (let k = at; k < Math.min(b.length, at + 1 + int(4)); k++) b[k] = v;
      return { bytes: b, how: `header bytes at ${at} set to ${v}` };
    }
    default: {
      const at = int(b.length);
      const len = 1 + int(256);
      const out = new Uint8Array(b.length - Math.min(len, b.length - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return { bytes: out, how: `deleted ${len} bytes at ${at}` };
    }
  }
}

describe('fuzz: mutated and truncated image files', () => {
  const pool = new ImagePreprocessPool({ workers: 2 });
  afterAll(() => pool.close());

  it(`${CASES} cases each give a valid tensor or an InputError/LimitError, none hangs`, async () => {
    const bases = await baseImages();
    const rnd = prng(SEED);
    const cases = Array.from({ length: CASES }, (_, i) => {
      const base = bases[i % bases.length]!;
      const { bytes, how } = mutate(base.bytes, rnd);
      return { name: `fuzz #${i} (${base.name}, ${how})`, bytes };
    });
    const failures: string[] = [];
    let ok = 0;
    let refused = 0;
    const t0 = performance.now();
    let next = 0;
    const runOne = async (c: { name: string; bytes: Uint8Array }): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), PER_CASE_TIMEOUT_MS);
      });
      const outcome = await Promise.race([
        pool.run(c.bytes, { inputName: c.name, maxPixels: 4_000_000 }).then(
          (r: PreprocessedImage) => ({ r }),
          (e: unknown) => ({ e }),
        ),
        timeout,
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        failures.push(`${c.name}: no answer within ${PER_CASE_TIMEOUT_MS} ms`);
      } else if ('r' in outcome) {
        const { r } = outcome;
        if (r.pixels.length !== 3 * 224 * 224 || r.rgb224.length !== 224 * 224 * 3 || !r.pixels.every(Number.isFinite)) {
          failures.push(`${c.name}: malformed tensor`);
        } else ok++;
      } else {
        const e = outcome.e;
        if (!(e instanceof InputError)) failures.push(`${c.name}: not a typed error: ${String(e)}`);
        else if (!e.message.startsWith(`${c.name}: `)) failures.push(`${c.name}: error does not name the input: ${e.message}`);
        else refused++;
      }
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < cases.length) await runOne(cases[next++]!);
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s: ${ok} decoded, ${refused} refused, ${failures.length} failures`);
    expect(failures).toEqual([]);
    expect(ok + refused).toBe(CASES);
    expect(ok).toBeGreaterThan(50); // the mutations are not all fatal: the valid path is exercised too
    expect(refused).toBeGreaterThan(200);
  }, 120_000);
});
