/**
 * What `vbge index PATH…` reads: folders (walked recursively, one directory listing in memory at a
 * time), image files, and JSONL manifests of `{"id"?, "image"?, "text"?, …metadata}`. Everything is
 * streamed as `PendingItem`s, so memory does not grow with the collection. A bad line or an unreadable
 * entry becomes an item with an `error`: it is reported as a reject, never stops the run.
 */
import { opendir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { readJsonLines } from '../util/jsonl.js';
import type { Metadata } from './types.js';

/** One item to index, before its image is read. */
export interface PendingItem {
  /** The id to store; undefined: the content key. */
  readonly id?: string;
  /** How messages and rejects name the item: its id, path or `manifest.jsonl:LINE`. */
  readonly source: string;
  /** Image file to read (absolute), or the bytes given by a library caller. */
  readonly imagePath?: string;
  readonly imageBytes?: Uint8Array;
  readonly text?: string;
  /** A sidecar caption file to read as the text. */
  readonly captionPath?: string;
  readonly metadata: Metadata;
  /** Why this item cannot be indexed (a bad manifest line, an unreadable entry). */
  readonly error?: string;
}

export interface SourceOptions {
  /** Extension of sidecar caption files (`.txt`): `a.jpg` takes `a.txt` as its text. */
  readonly captionExt?: string;
}

const MANIFEST_EXT = '.jsonl';
const RESERVED = new Set(['id', 'image', 'text']);

/** Items from every path, in order; folders in sorted order (byte order of names), so runs are reproducible. */
export async function* readSources(paths: readonly string[], options: SourceOptions = {}): AsyncGenerator<PendingItem> {
  const captionExt = normaliseExt(options.captionExt);
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      yield { source: path, metadata: {}, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      continue;
    }
    if (info.isDirectory()) yield* walkFolder(path, captionExt);
    else if (extname(path).toLowerCase() === MANIFEST_EXT) yield* readManifest(path);
    else yield fileItem(path, captionExt);
  }
}

/** Counts what `readSources` will yield (folder entries and manifest lines), for progress and ETA. */
export async function countSources(paths: readonly string[], options: SourceOptions = {}): Promise<number> {
  let n = 0;
  for await (const _ of countingSources(paths, normaliseExt(options.captionExt))) n++;
  return n;
}

async function* countingSources(paths: readonly string[], captionExt: string | undefined): AsyncGenerator<unknown> {
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) yield* walkFiles(path, captionExt);
    else if (info && extname(path).toLowerCase() === MANIFEST_EXT) yield* readJsonLines(path, LIMITS.maxJsonlLineBytes);
    else yield path;
  }
}

function normaliseExt(ext: string | undefined): string | undefined {
  if (ext === undefined) return undefined;
  if (!/^\.?[\w-]{1,16}$/.test(ext)) throw new ConfigError(`--caption-ext "${ext}": expected an extension such as .txt`);
  return (ext.startsWith('.') ? ext : `.${ext}`).toLowerCase();
}

function fileItem(path: string, captionExt: string | undefined): PendingItem {
  const captionPath = captionExt ? join(dirname(path), basename(path, extname(path)) + captionExt) : undefined;
  return { id: path, source: path, imagePath: resolve(path), metadata: {}, ...(captionPath ? { captionPath } : {}) };
}

/** Regular files under `root`, depth first, names in byte order; hidden entries and caption sidecars skipped. */
async function* walkFiles(root: string, captionExt: string | undefined): AsyncGenerator<string> {
  let names: { name: string; dir: boolean; file: boolean }[];
  try {
    const dir = await opendir(root);
    names = [];
    for await (const entry of dir) names.push({ name: entry.name, dir: entry.isDirectory(), file: entry.isFile() });
  } catch {
    yield root; // reported by fileItem's read as unreadable
    return;
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    // Symbolic links to folders are not followed: a link cycle cannot make the walk endless.
    if (entry.dir) yield* walkFiles(path, captionExt);
    else if (entry.file && !(captionExt && extname(entry.name).toLowerCase() === captionExt)) yield path;
  }
}

async function* walkFolder(root: string, captionExt: string | undefined): AsyncGenerator<PendingItem> {
  for await (const path of walkFiles(root, captionExt)) yield fileItem(path, captionExt);
}

/** Manifest lines; image paths are relative to the manifest's folder. */
async function* readManifest(path: string): AsyncGenerator<PendingItem> {
  const base = dirname(resolve(path));
  const name = relative(process.cwd(), path) || path;
  for await (const line of readJsonLines(path, LIMITS.maxJsonlLineBytes)) {
    const source = `${name}:${line.line}`;
    if ('error' in line) {
      yield { source, metadata: {}, error: line.error };
      continue;
    }
    const value = line.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { source, metadata: {}, error: 'must be a JSON object' };
      continue;
    }
    const obj = value as Record<string, unknown>;
    const { id, image, text } = obj;
    const metadata = Object.fromEntries(Object.entries(obj).filter(([k]) => !RESERVED.has(k)));
    if (id !== undefined && typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) {
      yield { source, metadata, error: '"id" must be a string or a safe integer' };
      continue;
    }
    if (image !== undefined && image !== null && typeof image !== 'string') {
      yield { source, metadata, error: '"image" must be a file path string' };
      continue;
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      yield { source, metadata, error: '"text" must be a string' };
      continue;
    }
    if (typeof image !== 'string' && typeof text !== 'string') {
      yield { source, metadata, error: 'has neither "image" nor "text"' };
      continue;
    }
    const idText = id === undefined ? (typeof image === 'string' ? image : undefined) : String(id);
    yield {
      ...(idText !== undefined ? { id: idText } : {}),
      source: idText !== undefined ? `${idText} (${source})` : source,
      ...(typeof image === 'string' ? { imagePath: resolve(base, image) } : {}),
      ...(typeof text === 'string' ? { text } : {}),
      metadata,
    };
  }
}
