/**
 * Recognises an image by its bytes (never by file name) and reads what Pillow would call its
 * format, size and mode from the header alone, so that limits apply before any pixel is decoded.
 */

export type ImageFormat = 'JPEG' | 'PNG' | 'GIF' | 'WEBP' | 'TIFF' | 'BMP' | 'PPM';

/** Pillow modes this library reproduces (plus the ones it recognises only to refuse them). */
export type PillowMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA' | 'CMYK' | 'I';

export interface ImageHeader {
  format: ImageFormat;
  /** Size from the header; `undefined` where the header does not state it simply (TIFF, some WebP). */
  width?: number;
  height?: number;
  /** The Pillow mode the header implies; `undefined` where the decoder's metadata must decide. */
  mode?: PillowMode;
  /** PNG: bits per sample (1, 2, 4, 8 or 16). */
  bitDepth?: number;
  /** GIF: what the first frame needs to be reproduced exactly. */
  gif?: GifFirstFrame;
  /** Why the header is malformed or unsupported; the caller turns it into an `InputError`. */
  problem?: string;
}

export interface GifFirstFrame {
  /** RGB triplets of the palette the first frame uses (local, else global); empty if none. */
  palette: Uint8Array;
  /** Transparent palette index from the first frame's graphic control extension, if any. */
  transparentIndex?: number;
  /** The first frame's rectangle on the logical screen. */
  frame: { left: number; top: number; width: number; height: number };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, at: number, n: number): string {
  if (b.length < at + n) return '';
  return String.fromCharCode(...b.subarray(at, at + n));
}

const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);

/** Returns the header, or `undefined` when the bytes are not an image format we recognise. */
export function sniffImage(b: Uint8Array): ImageHeader | undefined {
  if (startsWith(b, PNG_SIGNATURE)) return sniffPng(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return sniffJpeg(b);
  const gif = ascii(b, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return sniffGif(b);
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return sniffWebp(b);
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return { format: 'TIFF' };
  if (startsWith(b, [0x49, 0x49, 0x2b, 0x00])) return { format: 'TIFF' }; // little-endian BigTIFF
  if (startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])) {
    // Pillow 9.4 tests the wrong header byte for big-endian BigTIFF and cannot identify the file.
    return { format: 'TIFF', problem: 'big-endian BigTIFF is not supported (Pillow 9.4 cannot open it either)' };
  }
  if (ascii(b, 0, 2) === 'BM') return { format: 'BMP' };
  if (b.length >= 3 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x36 && isPnmSpace(b[2]!)) return { format: 'PPM' };
  return undefined;
}

function isPnmSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * Names formats that Pillow reads but we do not, so that the refusal says what the file is.
 * Signatures from the formats' specifications; TGA has none and is not named.
 */
export function otherFormatName(b: Uint8Array): string | undefined {
  // TGA first: its header can start like an ICO/CUR one.
  if (b.length >= 18 && ascii(b, b.length - 18, 16) === 'TRUEVISION-XFILE') return 'TGA';
  if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (startsWith(b, [0x00, 0x00, 0x02, 0x00])) return 'CUR';
  if (ascii(b, 0, 4) === '8BPS') return 'PSD';
  if (startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51])) return 'JPEG 2000';
  if (b.length >= 4 && b[0] === 0x0a && b[1]! <= 5 && b[2] === 1) return 'PCX';
  if (startsWith(b, [0x01, 0xda])) return 'SGI';
  if (ascii(b, 4, 4) === 'ftyp') return /^(avif|avis)$/.test(ascii(b, 8, 4)) ? 'AVIF' : 'HEIF/ISO media';
  if (ascii(b, 0, 4) === 'qoif') return 'QOI';
  if (ascii(b, 0, 4) === 'DDS ') return 'DDS';
  if (ascii(b, 0, 4) === 'icns') return 'ICNS';
  if (ascii(b, 0, 4) === '%!PS' || startsWith(b, [0xc5, 0xd0, 0xd3, 0xc6])) return 'EPS';
  if (ascii(b, 0, 5) === '%PDF-') return 'PDF';
  if (ascii(b, 0, 4) === 'FORM') return 'IFF';
  if (startsWith(b, [0xff, 0x0a]) || startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'JPEG XL';
  if (b[0] === 0x50 && (b[1] === 0x37 || ascii(b, 0, 6) === 'P0CMYK' || ascii(b, 0, 3) === 'PyP' || ascii(b, 0, 3) === 'PyR' || ascii(b, 0, 3) === 'PyC')) return 'PAM/Pillow-specific PNM';
  return undefined;
}

/** Pillow 9.4 `PngImagePlugin._MODES`, keyed by (bit depth, colour type). */
function pngMode(depth: number, colourType: number): PillowMode | undefined {
  switch (colourType) {
    case 0:
      if (depth === 1) return '1';
      if (depth === 2 || depth === 4 || depth === 8) return 'L';
      if (depth === 16) return 'I';
      return undefined;
    case 2:
      return depth === 8 || depth === 16 ? 'RGB' : undefined;
    case 3:
      return depth === 1 || depth === 2 || depth === 4 || depth === 8 ? 'P' : undefined;
    case 4:
      return depth === 8 || depth === 16 ? 'LA' : undefined;
    case 6:
      return depth === 8 || depth === 16 ? 'RGBA' : undefined;
    default:
      return undefined;
  }
}

function sniffPng(b: Uint8Array): ImageHeader {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') return { format: 'PNG', problem: 'truncated or malformed PNG header (no IHDR chunk)' };
  const width = be32(b, 16);
  const height = be32(b, 20);
  const bitDepth = b[24]!;
  const colourType = b[25]!;
  const mode = pngMode(bitDepth, colourType);
  if (!mode) return { format: 'PNG', width, height, problem: `invalid PNG bit depth ${bitDepth} for colour type ${colourType}` };
  return { format: 'PNG', width, height, mode, bitDepth };
}

/**
 * Finds the next marker as libjpeg's `next_marker` and Pillow's header parser do: bytes other than
 * 0xFF before a marker are skipped (libjpeg warns "extraneous bytes" and decodes on), fill bytes
 * 0xFF are skipped, and a stuffed FF 00 pair is not a marker. Returns the marker and the index just
 * past its code, or undefined at the end of the data.
 */
function nextJpegMarker(b: Uint8Array, from: number): { marker: number; next: number } | undefined {
  let i = from;
  for (;;) {
    while (i < b.length && b[i] !== 0xff) i++;
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) return undefined;
    const marker = b[i]!;
    i++;
    if (marker !== 0x00) return { marker, next: i };
  }
}

/** Markers Pillow 9.4 knows without a length (SOI, EOI, RSTn, JPG, JPGn); libjpeg agrees but for JPGn. */
function isStandaloneForPillow(marker: number): boolean {
  return marker === 0xc8 || (marker >= 0xd0 && marker <= 0xd9) || (marker >= 0xf0 && marker <= 0xfd);
}

/**
 * Walks the header segments up to the first scan as Pillow's `JpegImageFile._open` does, because
 * Pillow decides from them whether the file opens at all: a marker outside its table, a short
 * JFIF/Adobe segment, a bad quantisation table or a segment running past the end make it refuse the
 * file, and so do we. The last frame header gives the size and mode, as in Pillow.
 */
function sniffJpeg(b: Uint8Array): ImageHeader {
  let header: ImageHeader | undefined;
  let i = 2;
  for (;;) {
    const found = nextJpegMarker(b, i);
    if (!found) break;
    const { marker } = found;
    const at = found.next - 2;
    i = found.next;
    if (marker < 0xc0) return { format: 'JPEG', problem: `unknown marker 0xFF${hex2(marker)} at byte ${at} (Pillow cannot open the file either)` };
    if (isStandaloneForPillow(marker)) continue;
    if (i + 2 > b.length) break;
    const length = be16(b, i);
    if (length < 2) return { format: 'JPEG', problem: `malformed JPEG: segment length ${length} at byte ${i}` };
    if (i + length > b.length) break;
    const data = i + 2;
    const n = length - 2;
    if (marker === 0xda) {
      if (!header) break;
      return header;
    }
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xcc) || marker === 0xde;
    if (isSof) {
      if (n < 6) return { format: 'JPEG', problem: `truncated frame header at byte ${at}` };
      header = frameHeader(marker, b[data]!, be16(b, data + 1), be16(b, data + 3), b[data + 5]!);
      if (header.problem) return header;
    } else if (marker === 0xdb) {
      const bad = badQuantisationTable(b, data, n);
      if (bad) return { format: 'JPEG', problem: bad };
    } else {
      const shortApp = pillowRejectsShortApp(b, marker, data, n);
      if (shortApp) return { format: 'JPEG', problem: shortApp };
    }
    i += length;
  }
  return { format: 'JPEG', ...(header ?? {}), problem: header ? 'truncated JPEG: no scan after the frame header' : 'truncated or malformed JPEG: no frame header (SOF) found' };
}

const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');

function frameHeader(marker: number, precision: number, height: number, width: number, components: number): ImageHeader {
  const header: ImageHeader = { format: 'JPEG', width, height };
  if (marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf) {
    return { ...header, problem: 'lossless JPEG is not supported (Pillow cannot decode it either)' };
  }
  if (precision !== 8) return { ...header, problem: `${precision}-bit JPEG samples are not supported (only 8-bit)` };
  if (width === 0 || height === 0) return { ...header, problem: `JPEG header declares a zero size (${width}×${height})` };
  const mode: PillowMode | undefined = components === 1 ? 'L' : components === 3 ? 'RGB' : components === 4 ? 'CMYK' : undefined;
  if (!mode) return { ...header, problem: `JPEG with ${components} colour components is not supported` };
  return { ...header, mode };
}

/** Pillow's DQT check: each table needs 1 + 64 × (1 or 2) bytes. */
function badQuantisationTable(b: Uint8Array, at: number, n: number): string | undefined {
  let k = 0;
  while (k < n) {
    const size = 1 + (b[at + k]! >> 4 === 0 ? 1 : 2) * 64;
    if (n - k < size) return `bad quantisation table at byte ${at + k} (Pillow cannot open the file either)`;
    k += size;
  }
  return undefined;
}

/**
 * Pillow reads the version of a JFIF APP0 and of an Adobe APP14 segment without checking their
 * length, and cannot open a file where either is shorter than 7 bytes; we refuse those too.
 */
function pillowRejectsShortApp(b: Uint8Array, marker: number, at: number, n: number): string | undefined {
  const name = marker === 0xe0 ? 'JFIF' : marker === 0xee ? 'Adobe' : undefined;
  if (!name || n < name.length || n >= 7 || ascii(b, at, name.length) !== name) return undefined;
  return `truncated ${name === 'JFIF' ? 'JFIF APP0' : 'Adobe APP14'} segment (${n} bytes; Pillow 9.4 cannot open the file either)`;
}

function sniffGif(b: Uint8Array): ImageHeader {
  if (b.length < 13) return { format: 'GIF', problem: 'truncated GIF header' };
  const width = le16(b, 6);
  const height = le16(b, 8);
  const flags = b[10]!;
  let i = 13;
  let palette = new Uint8Array(0);
  if (flags & 0x80) {
    const n = 3 << ((flags & 7) + 1);
    palette = b.slice(i, i + n);
    i += n;
  }
  // Pillow 9.4 treats an identity grey ramp palette as "no palette": the image opens as mode L.
  let paletteNeeded = palette.length > 0 && isPaletteNeeded(palette);
  let transparentIndex: number | undefined;
  while (i < b.length) {
    const tag = b[i]!;
    if (tag === 0x21) {
      const label = b[i + 1];
      i += 2;
      while (i < b.length) {
        const size = b[i]!;
        if (size === 0) {
          i++;
          break;
        }
        if (label === 0xf9 && size >= 4 && i + 4 < b.length && b[i + 1]! & 1) transparentIndex = b[i + 4]!;
        i += size + 1;
      }
    } else if (tag === 0x2c) {
      if (i + 10 > b.length) break;
      const local = b[i + 9]!;
      if (local & 0x80) {
        const n = 3 << ((local & 7) + 1);
        palette = b.slice(i + 10, i + 10 + n);
        paletteNeeded = isPaletteNeeded(palette);
      }
      const frame = { left: le16(b, i + 1), top: le16(b, i + 3), width: le16(b, i + 5), height: le16(b, i + 7) };
      const mode: PillowMode = paletteNeeded ? 'P' : 'L';
      return {
        format: 'GIF',
        width,
        height,
        mode,
        gif: { palette: paletteNeeded ? palette : new Uint8Array(0), transparentIndex, frame },
      };
    } else {
      break;
    }
  }
  return { format: 'GIF', width, height, problem: 'truncated or malformed GIF: no image found' };
}

function isPaletteNeeded(p: Uint8Array): boolean {
  for (let i = 0; i + 2 < p.length; i += 3) {
    const k = i / 3;
    if (p[i] !== k || p[i + 1] !== k || p[i + 2] !== k) return true;
  }
  return false;
}

function sniffWebp(b: Uint8Array): ImageHeader {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' || chunk === 'VP8L' || chunk === 'VP8X') return { format: 'WEBP' };
  return { format: 'WEBP', problem: `malformed WebP: unknown first chunk ${JSON.stringify(chunk)}` };
}
