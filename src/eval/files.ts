/** Small file helpers the data set readers share; every failure names the file and what was expected. */
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';
import { LIMITS } from '../limits.js';

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A whole JSON file; `role` says what the file should be, for the error. */
export async function readJsonFile(path: string, role: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(path, `no such file (${role})`, { cause: err });
    // A file beyond V8's longest string (~512 MiB) cannot be read whole.
    if (code === 'ERR_STRING_TOO_LONG') throw new InputError(path, `too large to read as one JSON document (${role})`, { cause: err });
    throw new InputError(path, `cannot read (${code ?? (err as Error).message})`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(path, `not valid JSON (${role}): ${(err as Error).message}`, { cause: err });
  }
}

/** Non-empty lines with their 1-based numbers; a line over the JSONL limit is an error naming it. */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.length > LIMITS.maxJsonlLineBytes)
        throw new InputError(`${path}:${line}`, `line length is ${text.length}, the limit is ${LIMITS.maxJsonlLineBytes}`);
      if (text.trim() !== '') yield { line, text };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id field: a string, or a number written as one (BEIR and WebQA both do that). */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function optionalString(value: unknown, where: string, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InputError(where, `"${field}" must be a string`);
  return value;
}
