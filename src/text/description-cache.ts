/**
 * A compact copy of a parsed XLM-R (Unigram) tokenizer description, keyed by the fingerprint of
 * the tokenizer files it was parsed from. bge-m3's tokenizer.json is 8 MB of JSON holding 250k
 * [piece, score] pairs: decoding and parsing it takes 0.3–0.5 s of every model load; this copy
 * reads straight into the packed pieces (unigram-pieces.ts) in a few milliseconds. The copy holds
 * exactly what the parse produced (scores as float64, pieces as their UTF-16 text), so a tokenizer
 * built from either is the same. A copy that cannot
 * be read is ignored and written again; the cache is best effort and never fails a load.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../util/fs.js';
import type { XlmRobertaDescription } from './tokenizer-description.js';

/** Bump when the description derived from the same files could differ (the parser changed). */
const FORMAT = 'vbge-tokenizer/1';
const MAGIC = Buffer.from('VBGETOK1');

type Header = Omit<XlmRobertaDescription, 'pieces'> & { readonly format: string; readonly count: number; readonly textLength: number };

function entryPath(cacheDir: string, fingerprint: string): string {
  return join(cacheDir, `${fingerprint}.unigram.bin`);
}

/** The cached description for these files, or undefined (absent, unreadable, another format). */
export function readCachedDescription(cacheDir: string, fingerprint: string): XlmRobertaDescription | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(entryPath(cacheDir, fingerprint));
  } catch {
    return undefined;
  }
  try {
    if (!bytes.subarray(0, 8).equals(MAGIC)) return undefined;
    const headerLength = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as Header;
    if (header.format !== FORMAT || header.fingerprint !== fingerprint || header.kind !== 'xlm-roberta') return undefined;
    const count = header.count;
    let offset = align8(12 + headerLength);
    // Copies, so that the typed arrays are aligned whatever the Buffer's own offset.
    const scores = new Float64Array(Uint8Array.prototype.slice.call(bytes, offset, offset + 8 * count).buffer);
    offset += 8 * count;
    const lengths = new Uint32Array(Uint8Array.prototype.slice.call(bytes, offset, offset + 4 * count).buffer);
    offset += 4 * count;
    const text = bytes.subarray(offset).toString('utf8');
    if (scores.length !== count || lengths.length !== count || text.length !== header.textLength) return undefined;
    const ends = new Uint32Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      at += lengths[i]!;
      ends[i] = at;
    }
    if (at !== text.length) return undefined;
    const { format: _format, count: _count, textLength: _textLength, ...rest } = header;
    return { ...rest, pieces: { text, ends, scores } };
  } catch {
    return undefined;
  }
}

/** Stores the description (atomically: a reader sees the old copy, the new one, or none). */
export function writeCachedDescription(cacheDir: string, d: XlmRobertaDescription): void {
  try {
    const { pieces, ...rest } = d;
    const { text, ends, scores } = pieces;
    const utf8 = Buffer.from(text, 'utf8');
    // A piece with an unpaired surrogate (JSON can spell one) would not survive UTF-8: no copy then.
    if (utf8.toString('utf8') !== text) return;
    const header: Header = { ...rest, format: FORMAT, count: ends.length, textLength: text.length };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const prefix = Buffer.alloc(align8(12 + headerBytes.length));
    MAGIC.copy(prefix, 0);
    prefix.writeUInt32LE(headerBytes.length, 8);
    headerBytes.copy(prefix, 12);
    const lengths = ends.map((end, id) => end - (id === 0 ? 0 : ends[id - 1]!));
    // Not Node's recursive mkdir: it spins forever under /proc (util/fs.ts).
    makeDirs(cacheDir);
    const path = entryPath(cacheDir, d.fingerprint);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([prefix, Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength), Buffer.from(lengths.buffer), utf8]));
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  } catch {
    // Best effort: a cache that cannot be written costs the next load its speed, nothing else.
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
