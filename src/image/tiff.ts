/**
 * Reads the first TIFF directory (classic or little-endian BigTIFF) far enough to know which Pillow mode the image opens as, and
 * refuses the layouts whose Pillow behaviour we do not reproduce (associated alpha, planar data,
 * more than 8 bits per sample, JPEG-in-TIFF, unusual photometric interpretations).
 */
import type { PillowMode } from './sniff.js';

export interface TiffImageLayout {
  mode: PillowMode;
  /** Orientation tag (274) as Pillow 9.4 applies it on load: 1 (none) to 8. */
  orientation: number;
}

export type TiffLayout = TiffImageLayout | { problem: string };

const TAG_BITS_PER_SAMPLE = 258;
const TAG_COMPRESSION = 259;
const TAG_PHOTOMETRIC = 262;
const TAG_ORIENTATION = 274;
const TAG_SAMPLES_PER_PIXEL = 277;
const TAG_PLANAR_CONFIG = 284;
const TAG_EXTRA_SAMPLES = 338;
const TAG_SAMPLE_FORMAT = 339;

/** none, LZW, Adobe deflate, PackBits, old deflate: lossless codecs whose output is unambiguous. */
const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32773, 32946]);
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };
/** Longest value array we read: the tags that decide the layout hold one value per sample. */
const MAX_VALUES = 16;

interface Directory {
  little: boolean;
  tags: Map<number, number[]>;
}

/** Parses the first image directory; numeric (BYTE/SHORT/LONG/LONG8) values only. */
function readDirectory(b: Uint8Array): Directory | { problem: string } {
  if (b.length < 8) return { problem: 'truncated TIFF header' };
  const little = b[0] === 0x49;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (i: number): number => view.getUint16(i, little);
  const u32 = (i: number): number => view.getUint32(i, little);
  // Offsets beyond 2^53 cannot be inside a file we accept; Number() keeps the comparison honest.
  const u64 = (i: number): number => Number(view.getBigUint64(i, little));
  const big = u16(2) === 43;
  if (big && (b.length < 16 || u16(4) !== 8)) return { problem: 'malformed BigTIFF header' };
  const ifd = big ? u64(8) : u32(4);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const inline = big ? 8 : 4;
  if (ifd < (big ? 16 : 8) || ifd + countSize > b.length) return { problem: `first directory offset ${ifd} is outside the file` };
  const count = big ? u64(ifd) : u16(ifd);
  if (ifd + countSize + count * entrySize > b.length) return { problem: 'truncated TIFF directory' };
  const tags = new Map<number, number[]>();
  for (let e = 0; e < count; e++) {
    const at = ifd + countSize + e * entrySize;
    const tag = u16(at);
    const type = u16(at + 2);
    const n = big ? u64(at + 4) : u32(at + 4);
    const size = TYPE_SIZES[type];
    const numeric = type === 1 || type === 3 || type === 4 || type === 16;
    if (size === undefined || !numeric || n > MAX_VALUES) continue;
    const total = size * n;
    const base = total <= inline ? at + 4 + (big ? 8 : 4) : big ? u64(at + 12) : u32(at + 8);
    if (base + total > b.length) return { problem: `tag ${tag} points outside the file` };
    const values: number[] = [];
    for (let k = 0; k < n; k++) {
      const v = base + size * k;
      values.push(type === 1 ? b[v]! : type === 3 ? u16(v) : type === 4 ? u32(v) : u64(v));
    }
    tags.set(tag, values);
  }
  return { little, tags };
}

export function readTiffLayout(b: Uint8Array): TiffLayout {
  const dir = readDirectory(b);
  if ('problem' in dir) return dir;
  const { tags } = dir;
  const first = (tag: number, fallback: number): number => tags.get(tag)?.[0] ?? fallback;
  const stored = first(TAG_ORIENTATION, 1);
  const orientation = stored >= 1 && stored <= 8 ? stored : 1;
  const compression = first(TAG_COMPRESSION, 1);
  const photometric = first(TAG_PHOTOMETRIC, -1);
  const spp = first(TAG_SAMPLES_PER_PIXEL, 1);
  const bits = tags.get(TAG_BITS_PER_SAMPLE) ?? [1];
  const planar = first(TAG_PLANAR_CONFIG, 1);
  const extra = tags.get(TAG_EXTRA_SAMPLES) ?? [];
  const sampleFormat = first(TAG_SAMPLE_FORMAT, 1);

  if (!SUPPORTED_COMPRESSION.has(compression)) {
    return { problem: `compression ${compression} is not supported (use uncompressed, LZW, deflate or PackBits)` };
  }
  if (planar !== 1) return { problem: 'planar (separate) sample layout is not supported' };
  if (sampleFormat !== 1) return { problem: `sample format ${sampleFormat} is not supported (only unsigned integers)` };
  const bps = bits[0]!;
  if (bits.some((v) => v !== bps)) return { problem: `mixed bits per sample (${bits.join(', ')}) are not supported` };
  const describe = `photometric ${photometric}, ${spp} samples of ${bps} bits${extra.length ? `, extra samples ${extra.join(',')}` : ''}`;

  if (photometric === 3 && spp === 1 && [1, 2, 4, 8].includes(bps)) return { mode: 'P', orientation };
  if (photometric === 1 && spp === 1 && bps === 1) return { mode: '1', orientation };
  if (bps !== 8) return { problem: `${describe} is not supported (only 8 bits per sample)` };
  if (photometric === 1 && spp === 1) return { mode: 'L', orientation };
  if (photometric === 1 && spp === 2 && extra[0] === 2) return { mode: 'LA', orientation };
  if (photometric === 2 && spp === 3) return { mode: 'RGB', orientation };
  // An unspecified extra sample makes Pillow's mode RGBX, which resizes and converts like RGB.
  if (photometric === 2 && spp === 4 && extra[0] === 0) return { mode: 'RGB', orientation };
  if (photometric === 2 && spp === 4 && extra[0] === 2) return { mode: 'RGBA', orientation };
  if (photometric === 5 && spp === 4 && extra.length === 0) return { mode: 'CMYK', orientation };
  return { problem: `${describe} is not supported` };
}
