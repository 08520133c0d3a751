/**
 * Reads the first TIFF directory (classic or BigTIFF) far enough to know which Pillow 9.4 mode the
 * image opens as, the Orientation Pillow applies when it loads the pixels, and whether our decoder
 * (libtiff through sharp) gives Pillow's samples for that layout. Layouts whose Pillow result we do
 * not reproduce are refused with the reason.
 *
 * Pillow picks the mode from the exact key (photometric, sample format, fill order, bits per sample,
 * extra samples) in `TiffImagePlugin.OPEN_INFO`; a key it does not list makes Pillow refuse the file.
 */
import type { PillowMode } from './sniff.js';

export interface TiffImageLayout {
  mode: PillowMode;
  /** Orientation tag (274) as Pillow 9.4 applies it on load: 1 (none) to 8. */
  orientation: number;
  /**
   * JPEG-compressed: clean data decodes alike, but libtiff's recovery from corrupt JPEG data differs
   * between our build and Pillow's, so the decoder must treat libjpeg's warnings as errors.
   */
  jpeg: boolean;
}

export type TiffLayout = TiffImageLayout | { problem: string };

const TAG_IMAGE_WIDTH = 256;
const TAG_IMAGE_LENGTH = 257;
const TAG_BITS_PER_SAMPLE = 258;
const TAG_COMPRESSION = 259;
const TAG_PHOTOMETRIC = 262;
const TAG_FILL_ORDER = 266;
const TAG_STRIP_OFFSETS = 273;
const TAG_ORIENTATION = 274;
const TAG_SAMPLES_PER_PIXEL = 277;
const TAG_ROWS_PER_STRIP = 278;
const TAG_PLANAR_CONFIG = 284;
const TAG_PREDICTOR = 317;
const TAG_COLOR_MAP = 320;
const TAG_TILE_OFFSETS = 324;
const TAG_EXTRA_SAMPLES = 338;
const TAG_SAMPLE_FORMAT = 339;

/** none, LZW, Adobe deflate, PackBits, old deflate, and JPEG (for the layouts in `JPEG_LAYOUTS`). */
const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32773, 32946, 7]);
const COMPRESSION_JPEG = 7;
/** Value sizes of the field types Pillow 9.4 loads; it ignores entries of any other type. */
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8 };
/** Longest value array we read: the tags that decide the layout hold one value per sample. */
const MAX_VALUES = 16;
/** Strip offsets are read whole (one per strip), up to this many. */
const MAX_STRIPS = 1 << 20;

interface Directory {
  little: boolean;
  tags: Map<number, number[]>;
}

/** Tags whose values decide the layout; Pillow reads them as numbers only when stored as integers. */
const LAYOUT_TAGS = new Set([
  TAG_IMAGE_WIDTH, TAG_IMAGE_LENGTH, TAG_BITS_PER_SAMPLE, TAG_COMPRESSION, TAG_PHOTOMETRIC, TAG_FILL_ORDER, TAG_STRIP_OFFSETS,
  TAG_ORIENTATION, TAG_SAMPLES_PER_PIXEL, TAG_ROWS_PER_STRIP, TAG_PLANAR_CONFIG, TAG_PREDICTOR, TAG_COLOR_MAP,
  TAG_TILE_OFFSETS, TAG_EXTRA_SAMPLES, TAG_SAMPLE_FORMAT,
]);

/** Parses the first image directory as Pillow 9.4 does; integer (SHORT/LONG/LONG8) values only. */
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
  const seen = new Set<number>();
  for (let e = 0; e < count; e++) {
    const at = ifd + countSize + e * entrySize;
    const tag = u16(at);
    const type = u16(at + 2);
    const n = big ? u64(at + 4) : u32(at + 4);
    const size = TYPE_SIZES[type];
    const numeric = type === 3 || type === 4 || type === 16;
    if (size === undefined) continue;
    // Pillow keeps the last of repeated entries, libtiff the first: the two would disagree.
    if (seen.has(tag)) return { problem: `tag ${tag} appears twice in the directory` };
    seen.add(tag);
    if (LAYOUT_TAGS.has(tag) && !numeric) return { problem: `tag ${tag} has field type ${type}, which Pillow 9.4 cannot use` };
    const total = size * n;
    const base = total <= inline ? at + 4 + (big ? 8 : 4) : big ? u64(at + 12) : u32(at + 8);
    // Values past the end of the file make Pillow stop reading the directory: it keeps the entries
    // before this one and drops this one and all after it.
    if (base + total > b.length) break;
    const whole = tag === TAG_STRIP_OFFSETS || tag === TAG_TILE_OFFSETS || tag === TAG_COLOR_MAP;
    if (total === 0 || !numeric || n > (whole ? MAX_STRIPS : MAX_VALUES)) continue;
    const values: number[] = [];
    for (let k = 0; k < n; k++) {
      const v = base + size * k;
      values.push(type === 3 ? u16(v) : type === 4 ? u32(v) : u64(v));
    }
    tags.set(tag, values);
  }
  return { little, tags };
}

const key = (photometric: number, bits: readonly number[], extra: readonly number[]): string =>
  `${photometric}/${bits.join(',')}/${extra.join(',')}`;

/**
 * Pillow 9.4's OPEN_INFO entries (sample format 1, fill order 1; both byte orders are listed for
 * each) whose pixels we reproduce exactly: the mode we decode to.
 */
const SUPPORTED: ReadonlyMap<string, PillowMode> = new Map<string, PillowMode>([
  [key(0, [1], []), '1'], // MinIsWhite bilevel ("1;I")
  [key(1, [1], []), '1'],
  [key(0, [2], []), 'L'], // 2 and 4 bits, scaled by 85 and 17 ("L;2", "L;4"), inverted for MinIsWhite
  [key(1, [2], []), 'L'],
  [key(0, [4], []), 'L'],
  [key(1, [4], []), 'L'],
  [key(0, [8], []), 'L'],
  [key(1, [8], []), 'L'],
  [key(1, [8, 8], [2]), 'LA'],
  [key(2, [8, 8, 8], []), 'RGB'],
  [key(2, [8, 8, 8, 8], []), 'RGBA'], // missing ExtraSamples: Pillow assumes alpha
  // An unspecified extra sample makes Pillow's mode RGBX, which resizes and converts like RGB.
  [key(2, [8, 8, 8, 8], [0]), 'RGB'],
  [key(2, [8, 8, 8, 8], [2]), 'RGBA'],
  [key(2, [8, 8, 8, 8], [999]), 'RGBA'],
  [key(2, [16, 16, 16], []), 'RGB'], // 16-bit samples: Pillow keeps the most significant byte
  [key(2, [16, 16, 16, 16], []), 'RGBA'],
  [key(2, [16, 16, 16, 16], [0]), 'RGB'],
  [key(2, [16, 16, 16, 16], [2]), 'RGBA'],
  [key(3, [1], []), 'P'],
  [key(3, [2], []), 'P'],
  [key(3, [4], []), 'P'],
  [key(3, [8], []), 'P'],
  [key(5, [8, 8, 8, 8], []), 'CMYK'],
  [key(6, [8, 8, 8], []), 'RGB'], // YCbCr: JPEG-compressed only (libtiff converts to RGB for Pillow too)
]);

/** JPEG-compressed layouts whose pixels libtiff gives Pillow and us alike: grey, RGB, YCbCr. */
const JPEG_LAYOUTS = new Set([key(1, [8], []), key(2, [8, 8, 8], []), key(6, [8, 8, 8], [])]);

/**
 * Planar (one plane per sample) layouts we read. Pillow reads uncompressed planes with one letter
 * of the raw mode per plane, which is right only for these plain 8-bit layouts (for grey+alpha it
 * has no unpacker and fails).
 */
const PLANAR_LAYOUTS = new Set([key(1, [8], []), key(2, [8, 8, 8], []), key(2, [8, 8, 8, 8], []), key(2, [8, 8, 8, 8], [2])]);

/** OPEN_INFO keys Pillow opens but whose result we do not reproduce, with the reason. */
function unsupportedReason(photometric: number, sampleFormat: number, bits: readonly number[], extra: readonly number[], little: boolean): string | undefined {
  const k = key(photometric, bits, extra);
  if (sampleFormat === 3) return 'floating-point samples are not supported (Pillow mode F)';
  if (sampleFormat === 2) return 'signed integer samples are not supported (Pillow mode I)';
  if ((photometric === 0 || photometric === 1) && bits.length === 1 && (bits[0] === 12 || bits[0] === 16)) {
    return `${bits[0]}-bit greyscale is not supported: upstream (Pillow 9.4) cannot resize it ("image has wrong mode")`;
  }
  if (photometric === 1 && bits.length === 1 && bits[0] === 32) return '32-bit integer samples are not supported (Pillow mode I)';
  if (k === key(3, [8, 8], [2])) return 'palette images with alpha are not supported (Pillow mode PA resizes palette indices)';
  if (extra[0] === 1 && photometric === 2) {
    // libtiff (through libvips) un-premultiplies in floating point; Pillow divides in integers.
    return 'associated (premultiplied) alpha is not supported: our decoder un-premultiplies it differently from Pillow';
  }
  if (k === key(5, [16, 16, 16, 16], []) && little) return '16-bit CMYK is not supported';
  if (photometric === 8) return 'CIE Lab colour is not supported (Pillow converts Lab to RGB with its own colour maths)';
  return undefined;
}

export function readTiffLayout(b: Uint8Array): TiffLayout {
  const dir = readDirectory(b);
  if ('problem' in dir) return dir;
  const { little, tags } = dir;
  const first = (tag: number, fallback: number): number => tags.get(tag)?.[0] ?? fallback;
  if (!tags.has(TAG_IMAGE_WIDTH)) return { problem: 'the first directory has no ImageWidth tag' };
  const compression = first(TAG_COMPRESSION, 1);
  const photometric = first(TAG_PHOTOMETRIC, 0);
  const spp = first(TAG_SAMPLES_PER_PIXEL, 1);
  let bits = tags.get(TAG_BITS_PER_SAMPLE) ?? [1];
  const planar = first(TAG_PLANAR_CONFIG, 1);
  const extra = tags.get(TAG_EXTRA_SAMPLES) ?? [];
  const formats = tags.get(TAG_SAMPLE_FORMAT) ?? [1];
  const fillOrder = first(TAG_FILL_ORDER, 1);
  const predictor = first(TAG_PREDICTOR, 1);

  if (!SUPPORTED_COMPRESSION.has(compression)) {
    return { problem: `compression ${compression} is not supported (use uncompressed, LZW, deflate or PackBits)` };
  }
  // Pillow's own normalisation of the key: one sample format for all samples, bits repeated per sample.
  const sampleFormat = formats.every((f) => f === 1) ? 1 : formats.length === 1 || formats.every((f) => f === formats[0]) ? formats[0]! : -1;
  if (spp < bits.length) bits = bits.slice(0, spp);
  else if (spp > bits.length && bits.length === 1) bits = new Array<number>(spp).fill(bits[0]!);
  if (bits.length !== spp) return { problem: `${spp} samples per pixel but ${bits.length} BitsPerSample values (Pillow cannot open it either)` };
  const describe = `photometric ${photometric}, ${spp} samples of ${bits.join('/')} bits${extra.length ? `, extra samples ${extra.join(',')}` : ''}`;

  const reason = unsupportedReason(photometric, sampleFormat, bits, extra, little);
  if (reason) return { problem: `${reason} (${describe})` };
  const mode = sampleFormat === 1 ? SUPPORTED.get(key(photometric, bits, extra)) : undefined;
  if (!mode) return { problem: `${describe} is a layout Pillow 9.4 cannot open either` };
  const layoutKey = key(photometric, bits, extra);
  if (compression === COMPRESSION_JPEG) {
    if (!JPEG_LAYOUTS.has(layoutKey) || planar !== 1) return { problem: `JPEG compression is supported for grey, RGB and YCbCr only (${describe})` };
  } else if (photometric === 6) {
    return { problem: `YCbCr without JPEG compression is not supported (${describe})` };
  }
  if (planar !== 1 && !PLANAR_LAYOUTS.has(layoutKey)) return { problem: `planar (separate) sample layout is supported for 8-bit grey, RGB and RGBA only (${describe})` };
  if (mode === 'P' && !tags.has(TAG_COLOR_MAP)) return { problem: 'palette image without a readable colour map (Pillow cannot open it either)' };
  if (compression === 1) {
    const truncated = uncompressedTruncation(b.length, tags, planar === 2 ? [bits[0]!] : bits);
    if (truncated) return { problem: truncated };
  }
  if (fillOrder !== 1) return { problem: `fill order ${fillOrder} is not supported` };
  if (predictor !== 1 && predictor !== 2) return { problem: `predictor ${predictor} is not supported` };
  const orientation = first(TAG_ORIENTATION, 1);
  return { mode, orientation: orientation >= 1 && orientation <= 8 ? orientation : 1, jpeg: compression === COMPRESSION_JPEG };
}

/**
 * Uncompressed data is read by Pillow itself, one tile per StripOffsets value (wrapping to the top
 * when the values outnumber the strips), and a tile that runs past the end of the file is an error.
 * libtiff would decode such files, so we check as Pillow reads them.
 */
/** `bits`: the samples stored together in one strip (all of them, or one for planar data). */
function uncompressedTruncation(fileLength: number, tags: Map<number, number[]>, bits: readonly number[]): string | undefined {
  if (tags.has(TAG_TILE_OFFSETS)) return undefined; // tiled uncompressed files are left to the decoder's own checks
  const offsets = tags.get(TAG_STRIP_OFFSETS);
  if (!offsets) return 'no strip offsets (Pillow cannot open it either)';
  const width = tags.get(TAG_IMAGE_WIDTH)?.[0] ?? 0;
  const height = tags.get(TAG_IMAGE_LENGTH)?.[0] ?? 0;
  const perStrip = tags.get(TAG_ROWS_PER_STRIP)?.[0] ?? height;
  const rowBytes = Math.ceil((width * bits.reduce((a, v) => a + v, 0)) / 8);
  let y = 0;
  for (const offset of offsets) {
    const rows = Math.min(y + perStrip, height) - y;
    if (offset + rows * rowBytes > fileLength) {
      return `uncompressed pixel data is truncated (a strip at byte ${offset} needs ${rows * rowBytes} bytes; the file has ${fileLength})`;
    }
    y += perStrip;
    if (y >= height) y = 0;
  }
  return undefined;
}
