import { createReadStream } from 'node:fs';
import { LIMITS } from '../limits.js';
import { splitLines } from '../util/jsonl.js';

export { type RawLine, splitLines } from '../util/jsonl.js';

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
