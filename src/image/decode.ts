/**
 * Decoding: bytes → raw 8-bit pixels with Pillow's mode semantics (spec §7.1).
 *
 * sharp (libvips + libjpeg-turbo/libpng/libwebp/libtiff) decodes JPEG, PNG, GIF, WebP and TIFF; this
 * module decides the Pillow mode from the file's own header, asks sharp for pixels that match what
 * Pillow holds in that mode, and enforces the size limits before any pixel is decoded. BMP and PNM,
 * which libvips cannot read (BMP) or reads differently, have decoders of their own (bmp.ts, pnm.ts).
 *
 * Layout of `DecodedImage.data` by mode: `1`/`L` one channel, `LA` two, `RGB` three, `RGBA`/`CMYK`
 * four, and `P` three: the palette is already looked up. That is exact because Pillow resizes `P`
 * with NEAREST, which commutes with a per-pixel lookup.
 *
 * Checked byte for byte against Pillow 9.4 + torchvision 0.14 (test/image/formats, test/image/real):
 * 8-bit PNG in every colour type and bit depth, 16-bit RGB/RGBA/LA PNG (most significant byte, as
 * Pillow's `;16B` unpacking), palette PNG with tRNS (transparency ignored), baseline/progressive/grey/
 * CMYK JPEG (Pillow's Adobe-inverted CMYK, resized in CMYK; stray bytes between segments skipped as
 * libjpeg does), GIF first frame (transparent and uncovered pixels take the palette colour Pillow
 * shows), WebP (lossy, lossless, alpha), TIFF and little-endian BigTIFF (none/LZW/deflate/PackBits:
 * 1 and MinIsWhite, 2/4/8-bit grey, LA, RGB, RGBA, 16-bit RGB(A), P, CMYK; planar 8-bit grey/RGB/
 * RGBA; JPEG-compressed grey/RGB/YCbCr), BMP and PNM (bmp.ts, pnm.ts). test/image/real-mutations
 * also checks 1500 damaged variants: Pillow's pixels or a refusal, never other pixels. ICC profiles are ignored, as upstream does. EXIF orientation is not
 * applied (upstream does not), but a TIFF's Orientation tag is: Pillow applies it when it loads the
 * pixels (see `transformDecoded` for how torchvision then squashes orientations 5–8).
 * Refused with an `InputError` naming the reason: what tiff.ts, bmp.ts and pnm.ts refuse, 16-bit
 * greyscale PNG (Pillow's result is version-dependent and mostly white; spec §7.1), 12-bit and
 * lossless JPEG, and every other format (named where recognised).
 */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import sharp, { type Metadata } from 'sharp';
import { InputError, LimitError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { Raster } from './resample.js';
import { decodeBmp } from './bmp.js';
import { decodePnm } from './pnm.js';
import { otherFormatName, sniffImage, type GifFirstFrame, type ImageFormat, type PillowMode } from './sniff.js';
import { readTiffLayout } from './tiff.js';

export type { ImageFormat, PillowMode } from './sniff.js';

export interface DecodedImage extends Raster {
  format: ImageFormat;
  mode: PillowMode;
  /** EXIF orientation (1–8) as stored; 1 when absent. Not applied here. */
  orientation: number;
  /**
   * The orientation Pillow applies while loading the pixels (TIFF's Orientation tag; 1 for every
   * other format). Not applied here: torchvision reads the size before Pillow loads the pixels.
   */
  orientationOnLoad: number;
}

export interface DecodeLimits {
  /** How errors name this input. */
  inputName: string;
  maxPixels: number;
  maxFileBytes: number;
}

// libvips' operation cache would keep decoded images alive for no benefit.
sharp.cache(false);

const CORES = availableParallelism();
let decodesInFlight = 0;

/**
 * libvips threads for a decode that starts while `inFlight` decodes (itself included) run on this
 * thread: the cores shared among them. A JPEG decodes its scanlines in order, so libvips' extra
 * threads mostly wait: a 1024×768 JPEG took 17.7 ms of CPU on two threads and 4.6 ms on one, and
 * a batch decodes faster image beside image. An image alone still gets every core: a 12-megapixel
 * JPEG decodes in 104–150 ms instead of 190–210. The setting is one for the whole process (sharp
 * also lowers it to one thread on glibc whenever a thread loads it), so every decode sets it.
 */
export function decodeThreads(inFlight: number): number {
  return Math.max(1, Math.floor(CORES / Math.max(1, inFlight)));
}
sharp.concurrency(decodeThreads(1));

const FORMAT_LIST = 'JPEG, PNG, GIF, WebP, TIFF, BMP or PNM';

/** Reads a file (or takes bytes), refusing empty and oversized inputs before reading them whole. */
export async function readImageBytes(input: string | Uint8Array, inputName: string, maxFileBytes: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    let size: number;
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new InputError(inputName, 'is not a regular file');
      size = st.size;
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(inputName, `cannot read image file: ${(err as Error).message}`, { cause: err });
    }
    if (size > maxFileBytes) throw new LimitError(inputName, 'image file size (bytes)', size, maxFileBytes);
    try {
      bytes = await readFile(input);
    } catch (err) {
      throw new InputError(inputName, `cannot read image file: ${(err as Error).message}`, { cause: err });
    }
  } else {
    bytes = input;
  }
  if (bytes.length > maxFileBytes) throw new LimitError(inputName, 'image file size (bytes)', bytes.length, maxFileBytes);
  if (bytes.length === 0) throw new InputError(inputName, 'the image is empty (0 bytes)');
  return bytes;
}

function checkSize(limits: DecodeLimits, width: number, height: number): void {
  const { inputName, maxPixels } = limits;
  if (!(width >= 1 && height >= 1)) throw new InputError(inputName, `the image declares a zero size (${width}×${height})`);
  const side = Math.max(width, height);
  if (side > LIMITS.maxImageSide) {
    throw new LimitError(inputName, 'image side (pixels)', side, LIMITS.maxImageSide, `image is ${width}×${height}`);
  }
  if (width * height > maxPixels) {
    throw new LimitError(inputName, 'image pixel count', width * height, maxPixels, `image is ${width}×${height}; decompression-bomb guard`);
  }
}

/** Decodes bytes into a Pillow-equivalent raster, or throws `InputError`/`LimitError`. */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
  const { inputName } = limits;
  const header = sniffImage(bytes);
  if (!header) {
    const other = otherFormatName(bytes);
    if (other) throw new InputError(inputName, `${other} images are not supported (supported: ${FORMAT_LIST}); convert the image to PNG`);
    throw new InputError(inputName, `not a supported image: the content is not ${FORMAT_LIST} (the format is recognised by content, not by file name)`);
  }
  if (header.problem) throw new InputError(inputName, `${header.format}: ${header.problem}`);
  const check = (width: number, height: number): void => checkSize(limits, width, height);
  if (header.format === 'BMP' || header.format === 'PPM') {
    const own = header.format === 'BMP' ? decodeBmp(bytes, inputName, check) : decodePnm(bytes, inputName, check);
    return { ...own, channels: channelCount(own.mode), format: header.format, orientation: 1, orientationOnLoad: 1 };
  }
  if (header.width !== undefined && header.height !== undefined) check(header.width, header.height);

  let mode = header.mode;
  let orientationOnLoad = 1;
  let failOn: 'error' | 'warning' = 'error';
  if (header.format === 'TIFF') {
    const layout = readTiffLayout(bytes);
    if ('problem' in layout) throw new InputError(inputName, `TIFF: ${layout.problem}`);
    mode = layout.mode;
    orientationOnLoad = layout.orientation;
    if (layout.jpeg) failOn = 'warning';
  }
  if (mode === 'I') {
    throw new InputError(
      inputName,
      '16-bit greyscale PNG is not supported: upstream (Pillow) turns it into mostly white pixels; convert the image to 8-bit',
    );
  }

  const sharpInput = {
    failOn,
    limitInputPixels: limits.maxPixels,
    sequentialRead: true,
    pages: 1,
    page: 0,
    autoOrient: false,
    // Pillow ignores embedded ICC profiles (no colour management); sharp would convert to sRGB.
    ignoreIcc: true,
  };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, sharpInput).metadata();
  } catch (err) {
    throw decodeFailure(inputName, header.format, err);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  checkSize(limits, width, height);
  if (header.format === 'WEBP') mode = meta.hasAlpha ? 'RGBA' : 'RGB';
  if (!mode) throw new InputError(inputName, `${header.format}: cannot tell the image's colour mode`);

  let pipeline = sharp(bytes, sharpInput).timeout({ seconds: LIMITS.imageDecodeTimeoutSeconds });
  // sharp would colour-manage CMYK into sRGB; Pillow keeps the stored CMYK samples.
  if (mode === 'CMYK') pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  sharp.concurrency(decodeThreads(++decodesInFlight));
  try {
    raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeFailure(inputName, header.format, err);
  } finally {
    decodesInFlight--;
  }
  const { info } = raw;
  if (info.width !== width || info.height !== height) {
    throw new InputError(inputName, `${header.format}: decoded size ${info.width}×${info.height} differs from the header's ${width}×${height}`);
  }
  const src = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  let data = selectChannels(src, info.channels, mode, width * height, inputName);
  if (header.format === 'GIF' && header.gif) fillGifBackground(data, src, info.channels, width, height, mode, header.gif);
  return {
    data,
    width,
    height,
    channels: channelCount(mode),
    format: header.format,
    mode,
    orientation: meta.orientation ?? 1,
    orientationOnLoad,
  };
}

export function channelCount(mode: PillowMode): number {
  switch (mode) {
    case '1':
    case 'L':
    case 'I':
      return 1;
    case 'LA':
      return 2;
    case 'P':
    case 'RGB':
      return 3;
    case 'RGBA':
    case 'CMYK':
      return 4;
  }
}

/** sharp returns grey as replicated RGB and adds alpha for transparency chunks; keep Pillow's channels. */
function selectChannels(src: Uint8Array, srcChannels: number, mode: PillowMode, pixels: number, inputName: string): Uint8Array {
  const want = channelCount(mode);
  if (src.length !== pixels * srcChannels) throw new InputError(inputName, 'decoder returned an unexpected amount of pixel data');
  // The decoder's own buffer, not a copy: a 12-megapixel photo is 36 MB, and copying it into fresh
  // memory cost as much as decoding it (the new pages fault in one by one).
  if (srcChannels === want && mode !== 'LA' && mode !== 'L' && mode !== '1') return src;
  const out = new Uint8Array(pixels * want);
  const alphaAt = srcChannels - 1;
  const srcHasAlpha = srcChannels === 2 || srcChannels === 4;
  if ((mode === 'RGBA' || mode === 'LA') && !srcHasAlpha) {
    throw new InputError(inputName, `decoder returned no alpha channel for a ${mode} image`);
  }
  if (mode === 'CMYK') throw new InputError(inputName, `decoder returned ${srcChannels} channels for a CMYK image`);
  for (let p = 0, s = 0, o = 0; p < pixels; p++, s += srcChannels, o += want) {
    if (want <= 2) {
      out[o] = src[s]!;
      if (want === 2) out[o + 1] = src[s + alphaAt]!;
    } else {
      if (srcChannels < 3) {
        out[o] = out[o + 1] = out[o + 2] = src[s]!;
      } else {
        out[o] = src[s]!;
        out[o + 1] = src[s + 1]!;
        out[o + 2] = src[s + 2]!;
      }
      if (want === 4) out[o + 3] = src[s + alphaAt]!;
    }
  }
  return out;
}

/**
 * Pillow keeps a GIF's first frame as palette indices: a transparent pixel shows the colour stored at
 * the transparent index, and pixels outside the frame's rectangle get index (transparency ?? 0).
 * libvips composites onto a transparent black canvas instead, so we restore those colours.
 */
function fillGifBackground(
  data: Uint8Array,
  src: Uint8Array,
  srcChannels: number,
  width: number,
  height: number,
  mode: PillowMode,
  gif: GifFirstFrame,
): void {
  const index = gif.transparentIndex ?? 0;
  const c = channelCount(mode);
  const fill = mode === 'P' ? [gif.palette[index * 3] ?? 0, gif.palette[index * 3 + 1] ?? 0, gif.palette[index * 3 + 2] ?? 0] : [index];
  const { left, top } = gif.frame;
  const right = left + gif.frame.width;
  const bottom = top + gif.frame.height;
  const hasAlpha = srcChannels === 4 || srcChannels === 2;
  for (let y = 0, p = 0; y < height; y++) {
    const rowInside = y >= top && y < bottom;
    for (let x = 0; x < width; x++, p++) {
      const inside = rowInside && x >= left && x < right;
      if (inside && !(hasAlpha && src[p * srcChannels + srcChannels - 1] === 0)) continue;
      for (let k = 0; k < c; k++) data[p * c + k] = fill[k]!;
    }
  }
}

function decodeFailure(inputName: string, format: ImageFormat, err: unknown): InputError {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  if (/pixel limit/i.test(msg)) {
    return new InputError(inputName, `${format}: image exceeds the pixel limit (${msg})`, { cause: err });
  }
  if (/warning treated as error/i.test(msg)) {
    return new InputError(inputName, `${format}: the JPEG-compressed data is corrupt (libjpeg warns; Pillow's libtiff recovers from corrupt data differently, so we refuse)`, { cause: err });
  }
  if (/timeout/i.test(msg)) {
    return new LimitError(inputName, 'image decode time (seconds)', LIMITS.imageDecodeTimeoutSeconds, LIMITS.imageDecodeTimeoutSeconds, msg);
  }
  return new InputError(inputName, `cannot decode ${format} image (corrupt or truncated?): ${msg}`, { cause: err });
}
