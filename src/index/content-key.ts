/**
 * Content keys: what an indexed item's vector was computed from. Reruns compare keys to embed only
 * what is new or changed; shards split a collection by key, so N processes divide it with no
 * coordinator and the same item always lands in the same shard.
 *
 * A stored key is `<content>.<info>`: the content part hashes the image bytes and the text (what the
 * vector depends on); the info part hashes the path and metadata stored beside it, so a change of
 * metadata alone updates the row without embedding again.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { canonicalSha256 } from '../util/canonical-json.js';

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** sha256 over the image bytes' sha256 and the text, each marked present or absent. */
export function contentKey(image: Uint8Array | undefined, text: string | undefined): string {
  const imagePart = image === undefined ? 'no-image' : `image:${sha256(image)}`;
  const textPart = text === undefined ? 'no-text' : `text:${sha256(Buffer.from(text, 'utf8'))}`;
  return sha256(`vbge-content/1\n${imagePart}\n${textPart}`);
}

/** The stored key for this content, path and metadata. */
export function storedKey(content: string, path: string | null, metadata: Readonly<Record<string, unknown>>): string {
  return `${content}.${canonicalSha256({ path, metadata }).slice(0, 16)}`;
}

/** The content part of a stored key. */
export function contentOf(stored: string): string {
  return stored.split('.', 1)[0]!;
}

/** Which of `count` shards an item belongs to (by the first 32 bits of its content key). */
export function shardOf(content: string, count: number): number {
  return Number.parseInt(content.slice(0, 8), 16) % count;
}

export interface Shard {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** Parses `I/N` (1-based, as users count: `--shard 1/3` … `--shard 3/3`). */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1 || n > 65536 || i < 1 || i > n)
    throw new ConfigError(`--shard "${value}": expected I/N with 1 ≤ I ≤ N ≤ 65536, e.g. 1/3`);
  return { index: i - 1, count: n };
}
