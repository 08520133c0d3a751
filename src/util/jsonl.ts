/**
 * JSON Lines read in bounded memory: the line splitter behind `--input` files and `vbge index`
 * manifests. A line longer than the limit is reported by its length, never held.
 */
import { createReadStream } from 'node:fs';

/** A raw line of bytes (without its `\n` or `\r\n`), or the byte length of a line too long to keep. */
export type RawLine = { readonly line: number; readonly bytes: Buffer } | { readonly line: number; readonly tooLongBytes: number };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes. A longer line is not kept: its
 * bytes are only counted up to the next newline, so memory stays below `maxBytes` plus one chunk
 * whatever the input. A UTF-8 byte order mark at the very start is dropped.
 */
export async function* splitLines(source: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<RawLine> {
  let pieces: Buffer[] = [];
  let kept = 0; // bytes in `pieces`
  let discarded = -1; // bytes of an over-long line seen so far; -1 while the line is kept
  let line = 0;
  let atStart = true;
  // One extra byte may be a `\r` that is stripped before the limit applies.
  let lastByte = -1; // of the current line, to leave out a `\r` from a discarded line's length
  const add = (piece: Buffer): void => {
    if (piece.length > 0) lastByte = piece[piece.length - 1]!;
    if (discarded >= 0) {
      discarded += piece.length;
    } else if (kept + piece.length > maxBytes + 1) {
      discarded = kept + piece.length;
      pieces = [];
      kept = 0;
    } else if (piece.length > 0) {
      pieces.push(piece);
      kept += piece.length;
    }
  };
  const finish = (): RawLine => {
    line++;
    let result: RawLine;
    if (discarded >= 0) result = { line, tooLongBytes: lastByte === CARRIAGE_RETURN ? discarded - 1 : discarded };
    else {
      let bytes = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, kept);
      if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
      result = bytes.length > maxBytes ? { line, tooLongBytes: bytes.length } : { line, bytes };
    }
    pieces = [];
    kept = 0;
    discarded = -1;
    lastByte = -1;
    return result;
  };
  for await (const data of source) {
    let chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (atStart && chunk.length > 0) {
      // A BOM split across chunks is so unlikely (chunks are ≥ 64 KiB from files) that only a whole one counts.
      if (chunk.subarray(0, UTF8_BOM.length).equals(UTF8_BOM)) chunk = chunk.subarray(UTF8_BOM.length);
      atStart = false;
    }
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      add(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    // Copy the unfinished tail so it does not pin the whole chunk while the line goes on.
    if (start < chunk.length) add(start === 0 || discarded >= 0 ? chunk.subarray(start) : Buffer.from(chunk.subarray(start)));
  }
  if (kept > 0 || discarded >= 0) yield finish();
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One non-blank line of a JSONL file: its parsed JSON value, or why it has none. */
export type JsonLine = { readonly line: number; readonly value: unknown } | { readonly line: number; readonly error: string };

/** Reads a JSONL file (or stdin for "-") line by line, in bounded memory; blank lines are skipped. */
export async function* readJsonLines(path: string, maxLineBytes: number): AsyncGenerator<JsonLine> {
  const stream = path === '-' ? process.stdin : createReadStream(path);
  for await (const raw of splitLines(stream, maxLineBytes)) {
    if ('tooLongBytes' in raw) {
      yield { line: raw.line, error: `line is ${raw.tooLongBytes} bytes, the limit is ${maxLineBytes}` };
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(raw.bytes);
    } catch {
      yield { line: raw.line, error: 'not valid UTF-8' };
      continue;
    }
    if (text.trim() === '') continue;
    try {
      yield { line: raw.line, value: JSON.parse(text) as unknown };
    } catch (err) {
      yield { line: raw.line, error: `not valid JSON (${(err as Error).message})` };
    }
  }
}
