import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LIMITS } from '../limits.js';

export type InputId = string | number;

/** One line of an input JSONL file: an input to embed, or why it cannot be one. */
export type InputLine =
  | { readonly line: number; readonly id: InputId; readonly text?: string; readonly image?: string }
  | { readonly line: number; readonly id: InputId; readonly error: string };

/** Parses one JSONL line `{"id": ..., "text": ..., "image": "path"}`. */
export function parseInputLine(raw: string, line: number): InputLine {
  if (Buffer.byteLength(raw) > LIMITS.maxJsonlLineBytes)
    return { line, id: line, error: `line is ${Buffer.byteLength(raw)} bytes, the limit is ${LIMITS.maxJsonlLineBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { line, id: line, error: `not valid JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { line, id: line, error: 'must be a JSON object' };
  const obj = value as Record<string, unknown>;
  const rawId = obj['id'];
  const id: InputId = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : line;
  if (rawId !== undefined && id !== rawId) return { line, id, error: '"id" must be a string or a number' };
  const text = obj['text'];
  const image = obj['image'];
  if (text !== undefined && text !== null && typeof text !== 'string') return { line, id, error: '"text" must be a string' };
  if (image !== undefined && image !== null && typeof image !== 'string') return { line, id, error: '"image" must be a file path string' };
  if ((text === undefined || text === null) && (image === undefined || image === null)) return { line, id, error: 'has neither "text" nor "image"' };
  return { line, id, ...(typeof text === 'string' ? { text } : {}), ...(typeof image === 'string' ? { image } : {}) };
}

/** Reads a JSONL file (or stdin for "-") line by line; blank lines are skipped. */
export async function* readInputLines(path: string): AsyncGenerator<InputLine> {
  const stream = path === '-' ? process.stdin : createReadStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    yield parseInputLine(raw, n);
  }
}
