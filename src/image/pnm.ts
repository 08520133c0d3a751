/**
 * Netpbm (PBM/PGM/PPM, P1–P6) decoding with Pillow 9.4's semantics (`PpmImagePlugin`):
 *
 * - P1/P4 open as mode `1` (1 is black), P2/P5 as `L`, P3/P6 as `RGB`.
 * - A maxval other than 255 rescales every sample to `round(v / maxval · 255)` (Python's rounding,
 *   half to even), clipped at 255 in the binary formats; samples are 2 bytes when maxval > 255.
 * - Greyscale with maxval > 255 opens as 32-bit `I`, which upstream turns mostly white (as 16-bit
 *   PNG): refused.
 * - The plain formats are read in Pillow's 1 MiB blocks, with its comment and token rules, so that
 *   the same files fail.
 */
import { InputError } from '../errors.js';
import type { PillowMode } from './sniff.js';

export interface PnmImage {
  mode: PillowMode;
  width: number;
  height: number;
  data: Uint8Array;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
/** Pillow's `ImageFile.SAFEBLOCK`: the plain formats are decoded block by block. */
const BLOCK = 1024 * 1024;
const MAX_TOKEN = 10;

type Fail = (why: string) => never;

export function decodePnm(b: Uint8Array, inputName: string, checkSize: (width: number, height: number) => void): PnmImage {
  const fail: Fail = (why) => {
    throw new InputError(inputName, `PNM: ${why}`);
  };
  let pos = 0;
  let magic = '';
  while (pos < b.length && magic.length < 6) {
    const c = b[pos++]!;
    if (WHITESPACE.has(c)) break;
    magic += String.fromCharCode(c);
  }
  const kind = /^P([1-6])$/.exec(magic)?.[1];
  if (!kind) return fail(`magic number ${JSON.stringify(magic)} is not P1–P6`);
  const plain = kind === '1' || kind === '2' || kind === '3';
  const mode: PillowMode = kind === '1' || kind === '4' ? '1' : kind === '2' || kind === '5' ? 'L' : 'RGB';

  const readToken = (): number => {
    let token = '';
    while (token.length <= MAX_TOKEN) {
      if (pos >= b.length) break;
      const c = b[pos++]!;
      if (WHITESPACE.has(c)) {
        if (!token) continue;
        break;
      }
      if (c === 0x23) {
        // '#': a comment runs to the end of the line, even inside a token
        while (pos < b.length) {
          const d = b[pos++]!;
          if (d === 0x0a || d === 0x0d) break;
        }
        continue;
      }
      token += String.fromCharCode(c);
    }
    if (!token) fail('the header ends early');
    if (token.length > MAX_TOKEN) fail(`header token ${JSON.stringify(token)} is too long`);
    if (!/^[0-9]+$/.test(token)) fail(`header token ${JSON.stringify(token)} is not a decimal number`);
    return Number(token);
  };
  const width = readToken();
  const height = readToken();
  const maxval = mode === '1' ? 1 : readToken();
  if (mode !== '1' && !(maxval > 0 && maxval < 65536)) fail(`maxval ${maxval} is outside 1–65535`);
  checkSize(width, height);
  if (mode === 'L' && maxval > 255) {
    fail(`greyscale with maxval ${maxval} (more than 8 bits) is not supported: upstream (Pillow) opens it as 32-bit mode I and turns it mostly white; convert the image to 8-bit`);
  }
  const bands = mode === 'RGB' ? 3 : 1;
  const samples = width * height * bands;
  if (mode === '1') return { mode, width, height, data: plain ? plainBitmap(b, pos, samples, fail) : packedBitmap(b, pos, width, height, fail) };
  const data = plain ? plainSamples(b, pos, samples, maxval, fail) : binarySamples(b, pos, samples, maxval, fail);
  return { mode, width, height, data };
}

/** Python's `round()` on a double: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function scale(v: number, maxval: number): number {
  return maxval === 255 ? v : roundHalfEven((v / maxval) * 255);
}

/** P4: rows of ⌈w/8⌉ bytes, most significant bit first, 1 = black. */
function packedBitmap(b: Uint8Array, at: number, w: number, h: number, fail: Fail): Uint8Array {
  const row = Math.ceil(w / 8);
  if (at + row * h > b.length) fail(`pixel data is truncated (needs ${row * h} bytes, has ${Math.max(0, b.length - at)})`);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = (b[at + y * row + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 0 : 255;
  }
  return out;
}

/** P5/P6: 1 or 2 bytes (big-endian) per sample. */
function binarySamples(b: Uint8Array, at: number, n: number, maxval: number, fail: Fail): Uint8Array {
  const size = maxval < 256 ? 1 : 2;
  if (at + n * size > b.length) fail(`pixel data is truncated (needs ${n * size} bytes, has ${Math.max(0, b.length - at)})`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = size === 1 ? b[at + i]! : (b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!;
    out[i] = Math.min(255, scale(v, maxval));
  }
  return out;
}

/** Pillow's `_find_comment_end`, including its choice when either line ending sits at index 0. */
function commentEnd(block: Uint8Array, start: number): number {
  const a = block.indexOf(0x0a, start);
  const c = block.indexOf(0x0d, start);
  return a * c > 0 ? Math.min(a, c) : Math.max(a, c);
}

/** Reads the plain data in Pillow's blocks, removing comments as Pillow's `_ignore_comments` does. */
class PlainBlocks {
  private pos: number;
  private commentSpans = false;

  constructor(
    private readonly b: Uint8Array,
    at: number,
  ) {
    this.pos = at;
  }

  private read(): Uint8Array {
    const block = this.b.subarray(this.pos, Math.min(this.b.length, this.pos + BLOCK));
    this.pos += block.length;
    return block;
  }

  /** The next block without comments (possibly empty); `undefined` at the end of the data. */
  next(): Uint8Array | undefined {
    let block = this.read();
    if (!block.length) return undefined;
    if (this.commentSpans) {
      while (block.length) {
        const end = commentEnd(block, 0);
        if (end !== -1) {
          block = block.subarray(end + 1);
          break;
        }
        block = this.read();
      }
    }
    this.commentSpans = false;
    const parts: Uint8Array[] = [];
    let from = 0;
    for (;;) {
      const start = block.indexOf(0x23, from);
      if (start === -1) break;
      const end = commentEnd(block, start);
      parts.push(block.subarray(from, start));
      if (end === -1) {
        this.commentSpans = true;
        from = block.length;
        break;
      }
      from = end + 1;
    }
    if (parts.length === 0) return block;
    parts.push(block.subarray(from));
    const joined = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    return joined;
  }
}

/** P1: every non-space character is a pixel ('1' black, '0' white); any other character fails. */
function plainBitmap(b: Uint8Array, at: number, n: number, fail: Fail): Uint8Array {
  const out = new Uint8Array(n);
  let count = 0;
  const blocks = new PlainBlocks(b, at);
  while (count !== n) {
    const block = blocks.next();
    if (block === undefined) break;
    // Pillow checks every character of the block before it keeps the ones it needs.
    for (const c of block) {
      if (WHITESPACE.has(c)) continue;
      if (c !== 0x30 && c !== 0x31) fail(`invalid character ${JSON.stringify(String.fromCharCode(c))} in P1 pixel data`);
    }
    for (const c of block) {
      if (count === n) break;
      if (!WHITESPACE.has(c)) out[count++] = c === 0x31 ? 0 : 255;
    }
  }
  if (count < n) fail(`pixel data is truncated (${count} of ${n} pixels)`);
  return out;
}

/**
 * P2/P3: decimal samples separated by whitespace, each at most maxval. A token cut by the end of a
 * block waits for the next one; Pillow 9.4 never forgets that pending token once it has decoded it,
 * so at the end of the data it decodes it again until the image is full (a file whose last sample has
 * no newline after it and that lacks samples comes out padded with copies of its last sample).
 */
function plainSamples(b: Uint8Array, at: number, n: number, maxval: number, fail: Fail): Uint8Array {
  const out = new Uint8Array(n);
  let count = 0;
  const blocks = new PlainBlocks(b, at);
  let half = '';
  const latin1 = new TextDecoder('latin1');
  while (count !== n) {
    const block = blocks.next();
    if (block === undefined) {
      if (!half) break;
      // Pillow flushes the pending token with one space, decodes it, keeps it pending and repeats
      // until the image is full: the same value fills the rest.
      const v = checkedSample(half, maxval, fail);
      out.fill(v, count);
      count = n;
      break;
    }
    const text = half + latin1.decode(block);
    const tokens = text.split(/[ \t\n\v\f\r]+/).filter((t) => t.length > 0);
    if (text.length && !WHITESPACE.has(text.charCodeAt(text.length - 1))) {
      half = tokens.pop()!;
      if (half.length > MAX_TOKEN) fail(`sample ${JSON.stringify(half.slice(0, MAX_TOKEN + 1))} is too long`);
    }
    for (const token of tokens) {
      out[count++] = checkedSample(token, maxval, fail);
      if (count === n) break;
    }
  }
  if (count < n) fail(`pixel data is truncated (${count} of ${n} samples)`);
  return out;
}

function checkedSample(token: string, maxval: number, fail: Fail): number {
  if (token.length > MAX_TOKEN) fail(`sample ${JSON.stringify(token.slice(0, MAX_TOKEN + 1))} is too long`);
  if (!/^[0-9]+$/.test(token)) fail(`sample ${JSON.stringify(token)} is not a decimal number`);
  const v = Number(token);
  if (v > maxval) fail(`sample ${v} is larger than maxval ${maxval}`);
  return scale(v, maxval);
}
