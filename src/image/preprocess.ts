/**
 * The upstream transform `preprocess_val` (spec §7): Resize(224, BICUBIC) on the short side →
 * CenterCrop(224) → convert('RGB') → ToTensor → Normalize (OpenAI CLIP mean/std), reproduced
 * byte for byte from Pillow 9.4 and torchvision.
 */
import { LIMITS } from '../limits.js';
import { OneAtATime } from '../util/one-at-a-time.js';
import { decodeImage, readImageBytes, type DecodedImage } from './decode.js';
import { applyOrientation } from './orient.js';
import { premultiplyAlpha, resizeBicubic, resizeNearest, unpremultiplyAlpha, type Raster, type Window } from './resample.js';
import { sniffImage, type PillowMode } from './sniff.js';

export interface PreprocessOptions {
  /** Apply EXIF orientation before resizing (diverges from upstream, which ignores it). Default false. */
  applyExifOrientation?: boolean;
  /** How errors name this input, e.g. 'input 3 (image photo.jpg)'. Default: the path, or 'image bytes'. */
  inputName?: string;
  /** Override limits (defaults in src/limits.ts). */
  maxPixels?: number;
  maxFileBytes?: number;
}

export interface PreprocessedImage {
  /** Float32 [3, 224, 224] CHW, normalised with the OpenAI CLIP mean/std, bit-identical to torchvision. */
  pixels: Float32Array;
  /** Uint8 [224, 224, 3] HWC RGB, before ToTensor (for checks). */
  rgb224: Uint8Array;
  /** What was decoded: format, Pillow-equivalent mode, width, height. */
  source: { format: string; mode: string; width: number; height: number };
}

/** Bump whenever any output byte could change; recorded as provenance beside stored vectors. */
export const PREPROCESS_VERSION = 'pillow-9.4-bicubic-224/2';

export const IMAGE_SIZE = 224;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** torchvision's `Resize(224)` output size for a PIL image: short side 224, long side truncated. */
export function resizeTarget(width: number, height: number, size = IMAGE_SIZE): { width: number; height: number } {
  const portrait = width <= height;
  const short = portrait ? width : height;
  const long = portrait ? height : width;
  if (short === size) return { width, height };
  const newLong = Math.trunc((size * long) / short);
  return portrait ? { width: size, height: newLong } : { width: newLong, height: size };
}

/** Python's `round()` for a multiple of 0.5: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision's `CenterCrop(224)` offsets: `int(round((side − 224) / 2.0))`. */
export function centerCropOffsets(width: number, height: number, size = IMAGE_SIZE): { left: number; top: number } {
  return { left: roundHalfEven((width - size) / 2.0), top: roundHalfEven((height - size) / 2.0) };
}

/**
 * Pillow's `Image.resize((width, height), BICUBIC)` dispatch by mode (spec §7.3), computing only
 * `window` of the result: the centre crop never reads the rest, and each output pixel is independent.
 */
export function resizeLikePillow(img: Raster, mode: PillowMode, width: number, height: number, window?: Window): Raster {
  if (mode === 'P' || mode === '1') return resizeNearest(img, width, height, window);
  if ((mode === 'RGBA' || mode === 'LA') && (width !== img.width || height !== img.height)) {
    return unpremultiplyAlpha(resizeBicubic(premultiplyAlpha(img), width, height, window));
  }
  return resizeBicubic(img, width, height, window);
}

function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Pillow's `convert('RGB')` from the raster's mode (alpha dropped, grey replicated, CMYK naive). */
export function convertToRgb(img: Raster, mode: PillowMode): Uint8Array {
  const { data, width, height, channels: c } = img;
  const pixels = width * height;
  if (c === 3 && mode !== 'CMYK') return data.slice(0, pixels * 3);
  const out = new Uint8Array(pixels * 3);
  // One loop per layout: the channel count and mode never change inside an image.
  if (c <= 2) {
    for (let i = 0, p = 0, o = 0; i < pixels; i++, p += c, o += 3) out[o] = out[o + 1] = out[o + 2] = data[p]!;
  } else if (mode === 'CMYK') {
    for (let i = 0, p = 0, o = 0; i < pixels; i++, p += c, o += 3) {
      const nk = 255 - data[p + 3]!;
      out[o] = nk - mulDiv255(data[p]!, nk);
      out[o + 1] = nk - mulDiv255(data[p + 1]!, nk);
      out[o + 2] = nk - mulDiv255(data[p + 2]!, nk);
    }
  } else {
    for (let i = 0, p = 0, o = 0; i < pixels; i++, p += c, o += 3) {
      out[o] = data[p]!;
      out[o + 1] = data[p + 1]!;
      out[o + 2] = data[p + 2]!;
    }
  }
  return out;
}

/** ToTensor + Normalize in float32, per step, as torch does: `((p / 255) − mean) / std`. */
const NORMALISE_TABLES: Float32Array[] = CLIP_MEAN.map((meanValue, ch) => {
  const mean = Math.fround(meanValue);
  const std = Math.fround(CLIP_STD[ch]!);
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = Math.fround(Math.fround(Math.fround(p / 255) - mean) / std);
  return table;
});

/** HWC uint8 RGB → CHW float32, normalised. */
export function normalise(rgb: Uint8Array, size = IMAGE_SIZE): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  const [r, g, b] = NORMALISE_TABLES as [Float32Array, Float32Array, Float32Array];
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = r[rgb[p]!]!;
    out[plane + i] = g[rgb[p + 1]!]!;
    out[2 * plane + i] = b[rgb[p + 2]!]!;
  }
  return out;
}

/**
 * The pixel transform on an already decoded image.
 *
 * TIFF quirk (Pillow 9.4 + torchvision 0.14): Pillow applies a TIFF's Orientation tag when it loads
 * the pixels, but torchvision reads `img.size` before anything loads them. The resize target comes
 * from the stored (untransposed) size and is applied to the transposed pixels, so orientations 5–8
 * squash the image to the stored aspect ratio. torchvision's "size unchanged" early return compares
 * a tuple with a list and never fires, so Pillow always gets the resize call, and it happens even
 * when the short side is already 224 (Pillow's own shortcut only copies when the loaded size equals
 * the target). We reproduce that exactly; `applyExifOrientation` instead transposes first, so the
 * image keeps its aspect ratio.
 */
export function transformDecoded(decoded: DecodedImage, applyExifOrientation = false): PreprocessedImage {
  let img: Raster = decoded;
  let sizeSeen = { width: decoded.width, height: decoded.height };
  if (applyExifOrientation) {
    img = applyOrientation(img, decoded.orientation);
    sizeSeen = { width: img.width, height: img.height };
  } else if (decoded.orientationOnLoad !== 1) {
    img = applyOrientation(img, decoded.orientationOnLoad);
  }
  const target = resizeTarget(sizeSeen.width, sizeSeen.height);
  const { left, top } = centerCropOffsets(target.width, target.height);
  const window = { left, top, width: IMAGE_SIZE, height: IMAGE_SIZE };
  const cropped = resizeLikePillow(img, decoded.mode, target.width, target.height, window);
  const rgb224 = convertToRgb(cropped, decoded.mode);
  return {
    pixels: normalise(rgb224),
    rgb224,
    source: { format: decoded.format, mode: decoded.mode, width: decoded.width, height: decoded.height },
  };
}

/** Decodes an image file (or its bytes) and returns the model's pixel tensor. */
export async function preprocessImage(input: string | Uint8Array, options: PreprocessOptions = {}): Promise<PreprocessedImage> {
  const inputName = options.inputName ?? (typeof input === 'string' ? input : 'image bytes');
  const maxPixels = options.maxPixels ?? LIMITS.maxImagePixels;
  const maxFileBytes = options.maxFileBytes ?? LIMITS.maxImageFileBytes;
  const bytes = await readImageBytes(input, inputName, maxFileBytes);
  const preprocess = async (): Promise<PreprocessedImage> =>
    transformDecoded(await decodeImage(bytes, { inputName, maxPixels, maxFileBytes }), options.applyExifOrientation ?? false);
  const header = sniffImage(bytes);
  const large = header?.width !== undefined && header.height !== undefined && header.width * header.height > LARGE_IMAGE_PIXELS;
  return large ? largeImages.run(preprocess) : preprocess();
}

/**
 * Images above this many pixels are decoded and resized one at a time on a thread. Side by side,
 * small images decode faster (see decodeThreads); a large one gains nothing from company — a
 * 12-megapixel JPEG's time is mostly libjpeg's ordered scanlines and faulting in its fresh 36 MB
 * — and each one in flight holds its decoded pixels (+40 MB peak RSS per extra photo).
 */
export const LARGE_IMAGE_PIXELS = 4_000_000;
/** The large images of this thread, one at a time. */
export const largeImages = new OneAtATime();
