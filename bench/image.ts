/**
 * Image preprocessing benchmark: decode + Pillow-exact resize + normalise of a 1024×768 JPEG
 * (q90, 4:2:0, photo-like synthetic content). Run directly: `npx tsx bench/image.ts`.
 */
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { decodeImage } from '../src/image/decode.js';
import { preprocessImage, transformDecoded } from '../src/image/preprocess.js';
import { simdResampleAvailable } from '../src/image/resample-simd.js';
import { LIMITS } from '../src/limits.js';

export interface ImageBenchResult {
  name: 'image-preprocess';
  image: string;
  runs: number;
  /** decode + resize + crop + normalise, median over `runs`. */
  median_ms: number;
  min_ms: number;
  p90_ms: number;
  /** Process CPU time of the same runs, median (wall time inflates when other work shares the cores). */
  cpu_median_ms: number;
  /** sharp decode to raw pixels only. */
  decode_median_ms: number;
  /** resize + crop + convert + normalise on decoded pixels only. */
  transform_median_ms: number;
  /** Which bicubic passes ran: the WebAssembly SIMD kernels or the TypeScript reference fallback. */
  resample: 'wasm-simd' | 'typescript';
}

/** A photo-like 1024×768 RGB frame: smooth gradients, a few hard edges and some sensor-like noise. */
export async function syntheticPhotoJpeg(width = 1024, height = 768): Promise<Uint8Array> {
  const rgb = Buffer.alloc(width * height * 3);
  let seed = 12345;
  const noise = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return ((seed >>> 16) & 15) - 8;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sky = y < height * 0.45;
      const dx = x - width * 0.62;
      const dy = y - height * 0.58;
      const disc = dx * dx + dy * dy < 140 * 140;
      let r = sky ? 90 + (y * 100) / height : 60 + 40 * Math.sin(x / 37) + (x * 60) / width;
      let g = sky ? 140 + (y * 80) / height : 110 + 30 * Math.cos(y / 23);
      let b = sky ? 220 - (y * 60) / height : 50 + 20 * Math.sin((x + y) / 51);
      if (disc) {
        r = 200 + 30 * Math.sin(dx / 9);
        g = 60;
        b = 40 + 20 * Math.cos(dy / 7);
      }
      const o = (y * width + x) * 3;
      rgb[o] = Math.max(0, Math.min(255, Math.round(r + noise())));
      rgb[o + 1] = Math.max(0, Math.min(255, Math.round(g + noise())));
      rgb[o + 2] = Math.max(0, Math.min(255, Math.round(b + noise())));
    }
  }
  const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer();
  return new Uint8Array(jpeg);
}

function stats(samples: number[]): { median: number; min: number; p90: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median, min: s[0]!, p90: at(0.9) };
}

/** Wall-clock and process CPU milliseconds per run (CPU time shows the cost when other work shares the cores). */
async function timeIt(runs: number, warmup: number, fn: () => Promise<unknown> | unknown): Promise<{ wall: number[]; cpu: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

export async function benchImagePreprocess(runs = 30, warmup = 5): Promise<ImageBenchResult> {
  const jpeg = await syntheticPhotoJpeg();
  const limits = { inputName: 'bench.jpg', maxPixels: LIMITS.maxImagePixels, maxFileBytes: LIMITS.maxImageFileBytes };
  const fullRuns = await timeIt(runs, warmup, () => preprocessImage(jpeg));
  const full = stats(fullRuns.wall);
  const decode = stats((await timeIt(runs, warmup, () => decodeImage(jpeg, limits))).wall);
  const decoded = await decodeImage(jpeg, limits);
  const transform = stats((await timeIt(runs, warmup, () => transformDecoded(decoded))).wall);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return {
    name: 'image-preprocess',
    image: `1024x768 JPEG q90 4:2:0 (${jpeg.length} bytes)`,
    runs,
    median_ms: round(full.median),
    min_ms: round(full.min),
    p90_ms: round(full.p90),
    cpu_median_ms: round(stats(fullRuns.cpu).median),
    decode_median_ms: round(decode.median),
    transform_median_ms: round(transform.median),
    resample: simdResampleAvailable() ? 'wasm-simd' : 'typescript',
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchImagePreprocess();
  console.log(
    `image-preprocess  ${r.image}  median ${r.median_ms} ms  (min ${r.min_ms}, p90 ${r.p90_ms}, CPU ${r.cpu_median_ms} ms; decode ${r.decode_median_ms} ms, resize+normalise ${r.transform_median_ms} ms [${r.resample}]; ${r.runs} runs)`,
  );
  console.log(JSON.stringify(r));
}
