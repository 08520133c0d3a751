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
  /** Folders never walked into (the index's own folder, when it lies inside a folder being indexed). */
  readonly skip?: readonly string[];
}

const MANIFEST_EXT = '.jsonl';
const RESERVED = new Set(['id', 'image', 'text']);

/** Items from every path, in order; folders in sorted order (byte order of names), so runs are reproducible. */
export async function* readSources(paths: readonly string[], options: SourceOptions = {}): AsyncGenerator<PendingItem> {
  const captionExt = normaliseExt(options.captionExt);
  const walk: Walk = { captionExt, skip: new Set((options.skip ?? []).map((p) => resolve(p))) };
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      yield { source: path, metadata: {}, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      continue;
    }
    if (info.isDirectory()) yield* walkFolder(path, walk);
    else if (extname(path).toLowerCase() === MANIFEST_EXT) yield* readManifest(path);
    else yield fileItem(path, captionExt);
  }
}

/** Counts what `readSources` will yield (folder entries and manifest lines), for progress and ETA. */
export async function countSources(paths: readonly string[], options: SourceOptions = {}): Promise<number> {
  let n = 0;
  const walk: Walk = { captionExt: normaliseExt(options.captionExt), skip: new Set((options.skip ?? []).map((p) => resolve(p))) };
  for await (const _ of countingSources(paths, walk)) n++;
  return n;
}

async function* countingSources(paths: readonly string[], walk: Walk): AsyncGenerator<unknown> {
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) yield* walkFiles(path, walk);
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

interface Walk {
  readonly captionExt: string | undefined;
  readonly skip: ReadonlySet<string>;
}

/**
 * Files under `root`, depth first, names in byte order; hidden entries, caption sidecars and
 * skipped folders left out. A symbolic link to a file is followed; one to a folder is not, so a
 * link cycle cannot make the walk endless.
 */
async function* walkFiles(root: string, walk: Walk): AsyncGenerator<string> {
  if (walk.skip.has(resolve(root))) return;
  let entries: { name: string; dir: boolean; file: boolean; link: boolean }[];
  try {
    const dir = await opendir(root);
    entries = [];
    for await (const entry of dir) entries.push({ name: entry.name, dir: entry.isDirectory(), file: entry.isFile(), link: entry.isSymbolicLink() });
  } catch {
    yield root; // reported by the item's read as unreadable
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    if (entry.dir) {
      yield* walkFiles(path, walk);
      continue;
    }
    const file = entry.file || (entry.link && (await stat(path).then((s) => s.isFile(), () => true))); // a dangling link is reported
    if (file && !(walk.captionExt && extname(entry.name).toLowerCase() === walk.captionExt)) yield path;
  }
}

async function* walkFolder(root: string, walk: Walk): AsyncGenerator<PendingItem> {
  for await (const path of walkFiles(root, walk)) yield fileItem(path, walk.captionExt);
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
