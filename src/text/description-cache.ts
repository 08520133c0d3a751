/**
 * A compact copy of a parsed tokenizer description, keyed by the fingerprint of the tokenizer
 * files it was parsed from. bge-m3's tokenizer.json is 8 MB of JSON holding 250k [piece, score]
 * pairs (0.3–0.5 s to decode and parse on every model load), bge-base's a 30k-entry vocab object
 * (about 0.1 s, on the load's critical path since the vision session opens on its own thread);
 * a copy reads straight into the description in a few milliseconds. The copy holds exactly what
 * the parse produced (scores as float64, pieces and tokens as their UTF-16 text, the vocab in its
 * order), so a tokenizer built from either is the same. A copy that cannot be read is ignored and
 * written again; the cache is best effort and never fails a load.
 *
 * File: MAGIC, u32 header length, the JSON header (the description's small fields), zero padding
 * to a multiple of 8, then the kind's arrays and the UTF-8 text of its strings:
 *  - Unigram (`<fingerprint>.unigram.bin`): float64 scores, uint32 piece lengths, pieces;
 *  - WordPiece (`<fingerprint>.wordpiece.bin`): uint32 ids, uint32 token lengths, tokens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs, writeAtomically } from '../util/fs.js';
import type { BertDescription, TokenizerDescription, XlmRobertaDescription } from './tokenizer-description.js';

/** Bump when the description derived from the same files could differ (the parser changed). */
const FORMAT = { unigram: 'vbge-tokenizer/1', wordpiece: 'vbge-tokenizer-wordpiece/1' } as const;
const KIND = { unigram: 'xlm-roberta', wordpiece: 'bert' } as const;
const MAGIC = Buffer.from('VBGETOK1');

type Layout = keyof typeof FORMAT;
type Sized = { readonly format: string; readonly count: number; readonly textLength: number };
type UnigramHeader = Omit<XlmRobertaDescription, 'pieces'> & Sized;
type WordPieceHeader = Omit<BertDescription, 'vocab'> & Sized;

function entryPath(cacheDir: string, fingerprint: string, layout: Layout): string {
  return join(cacheDir, `${fingerprint}.${layout}.bin`);
}

/** The cached description for these files, or undefined (absent, unreadable, another format). */
export function readCachedDescription(cacheDir: string, fingerprint: string): TokenizerDescription | undefined {
  return readUnigram(cacheDir, fingerprint) ?? readWordPiece(cacheDir, fingerprint);
}

/** Stores the description (atomically: a reader sees the old copy, the new one, or none). */
export function writeCachedDescription(cacheDir: string, d: TokenizerDescription): void {
  try {
    if (d.kind === 'xlm-roberta') {
      const { pieces, ...rest } = d;
      const { text, ends, scores } = pieces;
      const lengths = ends.map((end, id) => end - (id === 0 ? 0 : ends[id - 1]!));
      writeEntry(cacheDir, d.fingerprint, 'unigram', { ...rest, format: FORMAT.unigram, count: ends.length, textLength: text.length }, [scores, lengths], text);
      return;
    }
    const { vocab, ...rest } = d;
    const tokens = [...vocab.keys()];
    const values = [...vocab.values()];
    if (values.some((id) => id > 0xffffffff)) return; // an id beyond uint32: no copy
    const ids = Uint32Array.from(values);
    const text = tokens.join('');
    const lengths = Uint32Array.from(tokens, (t) => t.length);
    writeEntry(cacheDir, d.fingerprint, 'wordpiece', { ...rest, format: FORMAT.wordpiece, count: tokens.length, textLength: text.length }, [ids, lengths], text);
  } catch {
    // Best effort: a cache that cannot be written costs the next load its speed, nothing else.
  }
}

function readUnigram(cacheDir: string, fingerprint: string): XlmRobertaDescription | undefined {
  const c = readColumns(cacheDir, fingerprint, 'unigram', Float64Array);
  return c && { ...(c.rest as Omit<UnigramHeader, keyof Sized>), pieces: { text: c.text, ends: c.ends, scores: c.values } };
}

function readWordPiece(cacheDir: string, fingerprint: string): BertDescription | undefined {
  const c = readColumns(cacheDir, fingerprint, 'wordpiece', Uint32Array);
  if (!c) return undefined;
  const vocab = new Map<string, number>();
  for (let i = 0; i < c.ends.length; i++) vocab.set(c.text.slice(i === 0 ? 0 : c.ends[i - 1], c.ends[i]), c.values[i]!);
  return vocab.size === c.ends.length ? { ...(c.rest as Omit<WordPieceHeader, keyof Sized>), vocab } : undefined;
}

/**
 * An entry's two columns — one value per string (scores or ids), then the string lengths — and
 * the strings' text, with the header's other fields; undefined unless every part has `count` entries.
 */
function readColumns<T extends Float64Array | Uint32Array>(
  cacheDir: string,
  fingerprint: string,
  layout: Layout,
  Values: { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
): { rest: object; values: T; ends: Uint32Array; text: string } | undefined {
  const entry = readEntry(cacheDir, fingerprint, layout);
  if (!entry) return undefined;
  const { format: _format, count, textLength: _textLength, ...rest } = entry.header;
  const values = new Values(entry.take(Values.BYTES_PER_ELEMENT * count));
  const lengths = new Uint32Array(entry.take(4 * count));
  const text = entry.text();
  const ends = endsOf(lengths, count, text);
  return ends && values.length === count ? { rest, values, ends, text } : undefined;
}

/** Where each of `count` strings ends in `text`, from their lengths; undefined unless they fill it exactly. */
function endsOf(lengths: Uint32Array, count: number, text: string): Uint32Array | undefined {
  if (lengths.length !== count) return undefined;
  const ends = new Uint32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) ends[i] = at += lengths[i]!;
  return at === text.length ? ends : undefined;
}

interface Entry {
  readonly header: Sized & { readonly fingerprint?: string; readonly kind?: string };
  /** The next `bytes` bytes, copied so that typed arrays over them are aligned; short at the end. */
  take(bytes: number): ArrayBuffer;
  /** The rest, as UTF-8. */
  text(): string;
}

function readEntry(cacheDir: string, fingerprint: string, layout: Layout): Entry | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(entryPath(cacheDir, fingerprint, layout));
  } catch {
    return undefined;
  }
  try {
    if (!bytes.subarray(0, 8).equals(MAGIC)) return undefined;
    const headerLength = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as Entry['header'];
    if (header.format !== FORMAT[layout] || header.kind !== KIND[layout] || header.fingerprint !== fingerprint || !Number.isSafeInteger(header.count)) return undefined;
    let offset = align8(12 + headerLength);
    return {
      header,
      take: (n) => {
        const part = Uint8Array.prototype.slice.call(bytes, offset, offset + n).buffer;
        offset += n;
        return part.byteLength === n ? part : new ArrayBuffer(0);
      },
      text: () => bytes.subarray(offset).toString('utf8'),
    };
  } catch {
    return undefined;
  }
}

function writeEntry(cacheDir: string, fingerprint: string, layout: Layout, header: Sized, arrays: readonly ArrayBufferView[], text: string): void {
  const utf8 = Buffer.from(text, 'utf8');
  // A string with an unpaired surrogate (JSON can spell one) would not survive UTF-8: no copy then.
  if (utf8.toString('utf8') !== text) return;
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(align8(12 + headerBytes.length));
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(prefix, 12);
  // Not Node's recursive mkdir: it spins forever under /proc (util/fs.ts).
  makeDirs(cacheDir);
  writeAtomically(entryPath(cacheDir, fingerprint, layout), Buffer.concat([prefix, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)), utf8]));
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
