import { createReadStream } from 'node:fs';
import { LIMITS } from '../limits.js';

export type InputId = string | number;

/** One line of an input JSONL file: an input to embed, or why it cannot be one. */
export type InputLine =
  | { readonly line: number; readonly id: InputId; readonly text?: string; readonly image?: string }
  | { readonly line: number; readonly id: InputId; readonly error: string };

const tooLong = (bytes: number): string => `line is ${bytes} bytes, the limit is ${LIMITS.maxJsonlLineBytes}`;

/** Parses one JSONL line `{"id": ..., "text": ..., "image": "path"}`. */
export function parseInputLine(raw: string, line: number): InputLine {
  const bytes = Buffer.byteLength(raw);
  if (bytes > LIMITS.maxJsonlLineBytes) return { line, id: line, error: tooLong(bytes) };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { line, id: line, error: `not valid JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { line, id: line, error: 'must be a JSON object' };
  const obj = value as Record<string, unknown>;
  const rawId = obj['id'];
  // JSON.parse rounds big or fractional numbers silently; an id that is not what the user wrote
  // would mislabel the output, so only numbers that survive the round trip exactly are accepted.
  if (typeof rawId === 'number' && !Number.isSafeInteger(rawId))
    return { line, id: line, error: 'numeric id must be a safe integer; quote it as a string' };
  const id: InputId = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : line;
  if (rawId !== undefined && id !== rawId) return { line, id, error: '"id" must be a string or a number' };
  const text = obj['text'];
  const image = obj['image'];
  if (text !== undefined && text !== null && typeof text !== 'string') return { line, id, error: '"text" must be a string' };
  if (image !== undefined && image !== null && typeof image !== 'string') return { line, id, error: '"image" must be a file path string' };
  if ((text === undefined || text === null) && (image === undefined || image === null)) return { line, id, error: 'has neither "text" nor "image"' };
  return { line, id, ...(typeof text === 'string' ? { text } : {}), ...(typeof image === 'string' ? { image } : {}) };
}

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

/** Reads a JSONL file (or stdin for "-") line by line, in bounded memory; blank lines are skipped. */
export async function* readInputLines(path: string): AsyncGenerator<InputLine> {
  const stream = path === '-' ? process.stdin : createReadStream(path);
  for await (const raw of splitLines(stream, LIMITS.maxJsonlLineBytes)) {
    if ('tooLongBytes' in raw) {
      yield { line: raw.line, id: raw.line, error: tooLong(raw.tooLongBytes) };
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(raw.bytes);
    } catch {
      yield { line: raw.line, id: raw.line, error: 'not valid UTF-8' };
      continue;
    }
    if (text.trim() === '') continue;
    yield parseInputLine(text, raw.line);
  }
}
