/**
 * BMP decoding with Pillow 9.4's semantics (`BmpImagePlugin`): which files open, in which mode, and
 * the exact samples, including its quirks. sharp (libvips) cannot read BMP at all.
 *
 * - Palette images (1, 4, 8 bits) open as `P`, unless the palette is the identity grey ramp: then
 *   `1` (two colours, black and white) or `L` (the raw indices are the grey levels).
 * - 16 bits: 5-5-5 (default) or 5-6-5 (bitfields), each field scaled as `v · 255 // max`.
 * - 24 bits: RGB. 32 bits: RGB with the fourth byte ignored, unless bitfields declare an alpha mask.
 * - RLE8/RLE4 follow Pillow's decoder, which departs from the format in two places: a delta escape
 *   consumes two extra bytes as its offsets, and an absolute RLE4 run of n pixels reads n // 2 bytes
 *   and then aligns on the file offset, not on the run.
 */
import { InputError } from '../errors.js';
import type { PillowMode } from './sniff.js';

export interface BmpImage {
  mode: PillowMode;
  width: number;
  height: number;
  /** Channels per mode as in `DecodedImage`: `P` already looked up to RGB. */
  data: Uint8Array;
}

const RAW = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;

/** How the stored bytes of one pixel become the mode's samples (Pillow's raw modes). */
type RawMode = 'P;1' | 'P;4' | 'P' | '1' | 'L' | 'BGR;15' | 'BGR;16' | 'BGR' | 'BGRX' | 'XBGR' | 'ABGR' | 'RGBA' | 'BGRA';

/** Pillow's supported bitfield layouts: (bits, masks) → raw mode. */
const MASK_MODES: ReadonlyMap<string, RawMode> = new Map<string, RawMode>([
  ['32:ff0000,ff00,ff,0', 'BGRX'],
  ['32:ff000000,ff0000,ff00,0', 'XBGR'],
  ['32:ff000000,ff0000,ff00,ff', 'ABGR'],
  ['32:ff,ff00,ff0000,ff000000', 'RGBA'],
  ['32:ff0000,ff00,ff,ff000000', 'BGRA'],
  ['32:0,0,0,0', 'BGRA'],
  ['24:ff0000,ff00,ff', 'BGR'],
  ['16:f800,7e0,1f', 'BGR;16'],
  ['16:7c00,3e0,1f', 'BGR;15'],
]);

interface BmpLayout {
  width: number;
  height: number;
  bits: number;
  compression: number;
  /** 1: rows stored top-down; -1: bottom-up (the default). */
  direction: 1 | -1;
  mode: PillowMode;
  raw: RawMode;
  /** Mode `P`: RGB triplets. */
  palette?: Uint8Array;
  offset: number;
}

export function decodeBmp(b: Uint8Array, inputName: string, checkSize: (width: number, height: number) => void): BmpImage {
  const fail = (why: string): never => {
    throw new InputError(inputName, `BMP: ${why}`);
  };
  const layout = readLayout(b, fail);
  checkSize(layout.width, layout.height);
  const indices = layout.compression === RLE8 || layout.compression === RLE4 ? decodeRle(b, layout, fail) : decodeRaw(b, layout, fail);
  return { mode: layout.mode, width: layout.width, height: layout.height, data: indices };
}

function readLayout(b: Uint8Array, fail: (why: string) => never): BmpLayout {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (i: number): number => view.getUint16(i, true);
  const u32 = (i: number): number => view.getUint32(i, true);
  if (b.length < 18) fail('truncated file header');
  let offset = u32(10);
  const headerSize = u32(14);
  if (b.length < 14 + headerSize) fail(`truncated info header (${headerSize} bytes declared)`);
  let width: number;
  let height: number;
  let bits: number;
  let compression = RAW;
  let colours = 0;
  let paletteEntry = 4;
  let direction: 1 | -1 = -1;
  let masks: number[] = [];
  if (headerSize === 12) {
    width = u16(18);
    height = u16(20);
    bits = u16(24);
    paletteEntry = 3;
  } else if (headerSize === 40 || headerSize === 64 || headerSize === 108 || headerSize === 124) {
    const yFlip = b[25] === 0xff; // Pillow's test for a negative height: its top byte
    if (yFlip) direction = 1;
    width = u32(18);
    height = yFlip ? 2 ** 32 - u32(22) : u32(22);
    bits = u16(28);
    compression = u32(30);
    colours = u32(46);
    if (compression === BITFIELDS) {
      const count = headerSize >= 56 ? 4 : 3; // a 40-byte header is followed by three masks
      if (b.length < 54 + 4 * count) fail('truncated bitfield masks');
      for (let k = 0; k < count; k++) masks.push(u32(54 + 4 * k));
      if (count === 3) masks.push(0);
    }
  } else {
    return fail(`header type ${headerSize} is not supported (Pillow 9.4 reads headers of 12, 40, 64, 108 and 124 bytes)`);
  }
  if (colours === 0) colours = 2 ** bits;
  // A file whose pixel offset forgets the palette: Pillow skips a palette of 4-byte entries.
  if (offset === 14 + headerSize && bits <= 8) offset += 4 * colours;

  let mode: PillowMode;
  let raw: RawMode;
  switch (bits) {
    case 1: mode = 'P'; raw = 'P;1'; break;
    case 4: mode = 'P'; raw = 'P;4'; break;
    case 8: mode = 'P'; raw = 'P'; break;
    case 16: mode = 'RGB'; raw = 'BGR;15'; break;
    case 24: mode = 'RGB'; raw = 'BGR'; break;
    case 32: mode = 'RGB'; raw = 'BGRX'; break;
    default: return fail(`${bits} bits per pixel is not a BMP depth Pillow reads (1, 4, 8, 16, 24, 32)`);
  }
  if (compression === BITFIELDS) {
    const used = bits === 32 ? masks : masks.slice(0, 3);
    const found = MASK_MODES.get(`${bits}:${used.map((m) => m.toString(16)).join(',')}`);
    if (!found) fail(`bitfield masks ${used.map((m) => `0x${m.toString(16)}`).join(', ')} for ${bits} bits are a layout Pillow 9.4 cannot read either`);
    raw = found!;
    if (bits === 32 && raw.includes('A')) mode = 'RGBA';
  } else if (compression === RLE8 || compression === RLE4) {
    if (mode !== 'P') fail(`RLE compression of ${bits}-bit pixels cannot be read (Pillow 9.4 fails on it too)`);
  } else if (compression !== RAW) {
    fail(`compression ${compression} is not supported (Pillow 9.4 reads uncompressed, RLE8, RLE4 and bitfields)`);
  }

  let palette: Uint8Array | undefined;
  if (mode === 'P') {
    if (colours > 256) fail(`a palette of ${colours} colours is not supported (at most 256)`);
    const at = 14 + headerSize;
    if (at + paletteEntry * colours > b.length) fail('truncated palette');
    const entry = (i: number, c: number): number => b[at + i * paletteEntry + c]!;
    let grey = true;
    for (let i = 0; i < colours && grey; i++) {
      const level = colours === 2 ? i * 255 : i;
      grey = entry(i, 0) === level && entry(i, 1) === level && entry(i, 2) === level;
    }
    if (grey) {
      // Pillow then reads the rows with raw mode "1" or "L" whatever the bit depth; only these
      // combinations come out as real pixels (the others read the packed bytes as pixels).
      const compressed = compression !== RAW;
      if (colours === 2 && bits === 1 && !compressed) {
        mode = '1';
        raw = '1';
      } else if (colours !== 2 && (bits === 8 || compressed)) {
        mode = 'L';
        raw = 'L';
      } else {
        fail(`a ${bits}-bit image with a ${colours}-entry grey palette is misread by Pillow 9.4; not supported`);
      }
    } else {
      // Pillow's palette starts as a grey ramp; the file's entries replace its first `colours`.
      palette = new Uint8Array(256 * 3);
      for (let i = 0; i < 256; i++) palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = i;
      for (let i = 0; i < colours; i++) {
        palette[3 * i] = entry(i, 2);
        palette[3 * i + 1] = entry(i, 1);
        palette[3 * i + 2] = entry(i, 0);
      }
    }
  }
  if (offset === 0) {
    // Pillow then starts where its reading stopped: after the header, the masks that follow a
    // 40-byte header, and the palette it read for palette images (grey ones included).
    const masksAfterHeader = headerSize === 40 && compression === BITFIELDS ? 12 : 0;
    const paletteRead = bits <= 8 ? paletteEntry * colours : 0;
    offset = Math.min(b.length, 14 + headerSize + masksAfterHeader + paletteRead);
  }
  return { width, height, bits, compression, direction, mode, raw, palette, offset };
}

function channelsOf(mode: PillowMode): number {
  return mode === 'RGBA' ? 4 : mode === 'RGB' || mode === 'P' ? 3 : 1;
}

/** Uncompressed rows: 4-byte aligned, bottom-up unless the height was negative. */
function decodeRaw(b: Uint8Array, l: BmpLayout, fail: (why: string) => never): Uint8Array {
  const { width: w, height: h, bits, raw } = l;
  const stride = Math.floor((w * bits + 31) / 32) * 4;
  const rowBytes = Math.ceil((w * bits) / 8);
  // Pillow's raw decoder needs every row, but not the padding after the last one.
  const end = l.offset + (h - 1) * stride + rowBytes;
  if (end > b.length) fail(`pixel data is truncated (needs ${end} bytes, the file has ${b.length})`);
  const c = channelsOf(l.mode);
  const out = new Uint8Array(w * h * c);
  const pal = l.palette;
  for (let y = 0; y < h; y++) {
    const row = l.offset + (l.direction === 1 ? y : h - 1 - y) * stride;
    let o = y * w * c;
    for (let x = 0; x < w; x++, o += c) {
      switch (raw) {
        case 'P;1':
        case 'P;4':
        case 'P': {
          const index = raw === 'P' ? b[row + x]! : raw === 'P;4' ? (b[row + (x >> 1)]! >> (x & 1 ? 0 : 4)) & 15 : (b[row + (x >> 3)]! >> (7 - (x & 7))) & 1;
          out[o] = pal![3 * index]!;
          out[o + 1] = pal![3 * index + 1]!;
          out[o + 2] = pal![3 * index + 2]!;
          break;
        }
        case '1':
          out[o] = (b[row + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 255 : 0;
          break;
        case 'L':
          out[o] = b[row + x]!;
          break;
        case 'BGR;15':
        case 'BGR;16': {
          const v = b[row + 2 * x]! | (b[row + 2 * x + 1]! << 8);
          const six = raw === 'BGR;16';
          out[o] = Math.floor((((v >> (six ? 11 : 10)) & 31) * 255) / 31);
          out[o + 1] = six ? Math.floor((((v >> 5) & 63) * 255) / 63) : Math.floor((((v >> 5) & 31) * 255) / 31);
          out[o + 2] = Math.floor(((v & 31) * 255) / 31);
          break;
        }
        case 'BGR':
          out[o] = b[row + 3 * x + 2]!;
          out[o + 1] = b[row + 3 * x + 1]!;
          out[o + 2] = b[row + 3 * x]!;
          break;
        default: {
          // 32-bit layouts: byte positions of R, G, B (and A) inside the little-endian word.
          const p = row + 4 * x;
          const [r, g, bl, a] = BYTE_ORDER[raw];
          out[o] = b[p + r]!;
          out[o + 1] = b[p + g]!;
          out[o + 2] = b[p + bl]!;
          if (c === 4) out[o + 3] = b[p + a]!;
        }
      }
    }
  }
  return out;
}

const BYTE_ORDER: Record<'BGRX' | 'XBGR' | 'ABGR' | 'RGBA' | 'BGRA', [number, number, number, number]> = {
  BGRX: [2, 1, 0, 3],
  XBGR: [3, 2, 1, 0],
  ABGR: [3, 2, 1, 0],
  RGBA: [0, 1, 2, 3],
  BGRA: [2, 1, 0, 3],
};

/** Pillow 9.4's `BmpRleDecoder`, step for step (see the module comment for its quirks). */
function decodeRle(b: Uint8Array, l: BmpLayout, fail: (why: string) => never): Uint8Array {
  const { width: w, height: h } = l;
  const rle4 = l.compression === RLE4;
  const total = w * h;
  const data = new Uint8Array(total);
  let n = 0; // samples written; those past `total` are dropped, as Pillow's raw decoder ignores them
  const push = (v: number): void => {
    if (n < total) data[n] = v;
    n++;
  };
  let pos = l.offset;
  let x = 0;
  while (n < total) {
    if (pos + 2 > b.length) break;
    let count = b[pos]!;
    const byte = b[pos + 1]!;
    pos += 2;
    if (count) {
      if (x + count > w) count = Math.max(0, w - x);
      for (let k = 0; k < count; k++) push(rle4 ? (k % 2 === 0 ? byte >> 4 : byte & 15) : byte);
      x += count;
    } else if (byte === 0) {
      while (n % w !== 0) push(0);
      x = 0;
    } else if (byte === 1) {
      break;
    } else if (byte === 2) {
      if (pos + 2 > b.length) break;
      pos += 2;
      if (pos + 2 > b.length) fail('truncated RLE delta escape (Pillow 9.4 fails on it too)');
      const skip = b[pos]! + b[pos + 1]! * w;
      pos += 2;
      for (let k = 0; k < skip && n < total; k++) push(0);
      x = n % w;
    } else {
      const byteCount = rle4 ? byte >> 1 : byte;
      const available = Math.min(byteCount, Math.max(0, b.length - pos));
      for (let k = 0; k < available; k++) {
        const v = b[pos + k]!;
        if (rle4) {
          push(v >> 4);
          push(v & 15);
        } else {
          push(v);
        }
      }
      pos += available;
      if (available < byteCount) break;
      x += byte;
      if (pos % 2 !== 0) pos++; // Pillow aligns on the file offset
    }
  }
  if (n < total) fail(`RLE pixel data is truncated (${n} of ${total} pixels)`);
  return expandRows(data, l);
}

/** RLE output: one index (or grey level) per pixel, rows in file order; flipped and looked up. */
function expandRows(indices: Uint8Array, l: BmpLayout): Uint8Array {
  const { width: w, height: h } = l;
  const c = channelsOf(l.mode);
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const from = (l.direction === 1 ? y : h - 1 - y) * w;
    for (let x = 0; x < w; x++) {
      const v = indices[from + x]!;
      const o = (y * w + x) * c;
      if (l.palette) {
        out[o] = l.palette[3 * v]!;
        out[o + 1] = l.palette[3 * v + 1]!;
        out[o + 2] = l.palette[3 * v + 2]!;
      } else {
        out[o] = v;
      }
    }
  }
  return out;
}
