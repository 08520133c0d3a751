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
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only long lines need counting.
      if (text.length * 3 > LIMITS.maxJsonlLineBytes && Buffer.byteLength(text) > LIMITS.maxJsonlLineBytes)
        throw new InputError(`${path}:${line}`, `line is ${Buffer.byteLength(text)} bytes, the limit is ${LIMITS.maxJsonlLineBytes}`);
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

/** Largest single member of a streamed JSON object (one WebQA question with its facts is ~100 KiB). */
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]

/**
 * The members of a file holding one JSON object, `[key, value]` one at a time, read in bounded
 * memory: a whole-file JSON.parse fails beyond V8's longest string (~512 MiB), which large releases
 * (WebQA_train_val.json) approach. Scanning bytes is safe because UTF-8 never puts these ASCII
 * bytes inside a multi-byte character.
 */
export async function* readObjectMembers(path: string, role: string, options: { chunkBytes?: number } = {}): AsyncGenerator<[string, unknown]> {
  const input = createReadStream(path, options.chunkBytes !== undefined ? { highWaterMark: options.chunkBytes } : {});
  let depth = 0;
  let inString = false;
  let escaped = false;
  let member: Buffer[] = [];
  let memberBytes = 0;
  let sawObject = false;
  const finish = (): [string, unknown] | undefined => {
    const text = Buffer.concat(member).toString('utf8').trim();
    member = [];
    memberBytes = 0;
    if (text === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(`{${text}}`);
    } catch (err) {
      throw new InputError(path, `not valid JSON (${role}) near ${JSON.stringify(text.slice(0, 40))}: ${(err as Error).message}`);
    }
    return Object.entries(parsed as Record<string, unknown>)[0];
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (b === BACKSLASH) escaped = true;
          else if (b === QUOTE) inString = false;
          continue;
        }
        if (b === QUOTE) inString = true;
        else if (OPEN.has(b)) {
          depth++;
          if (depth === 1) {
            if (b !== 0x7b || sawObject) throw new InputError(path, `must be one JSON object (${role})`);
            sawObject = true;
            start = i + 1;
          }
        } else if (CLOSE.has(b)) {
          depth--;
          if (depth === 0) {
            member.push(chunk.subarray(start, i));
            const entry = finish();
            if (entry) yield entry;
            start = chunk.length;
          }
        } else if (b === COMMA && depth === 1) {
          member.push(chunk.subarray(start, i));
          const entry = finish();
          if (entry) yield entry;
          start = i + 1;
        } else if (depth === 0 && b > 0x20) throw new InputError(path, `must be one JSON object (${role})`);
      }
      if (depth >= 1 && start < chunk.length) {
        member.push(Buffer.from(chunk.subarray(start)));
        memberBytes += chunk.length - start;
        if (memberBytes > MAX_MEMBER_BYTES) throw new InputError(path, `one member is longer than ${MAX_MEMBER_BYTES} bytes (${role})`);
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(path, `no such file (${role})`, { cause: err });
    throw err;
  } finally {
    input.destroy();
  }
  if (!sawObject || depth !== 0) throw new InputError(path, `not valid JSON (${role}): ${sawObject ? 'the object is not closed' : 'empty'}`);
}
