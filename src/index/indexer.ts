/**
 * One indexing run: pending items in, batches through the encoder, records out to the store as
 * they are produced. Content keys decide what is new, changed or unchanged, so a rerun embeds only
 * what it must; each batch is one atomic upsert, so a crash loses at most the batch in flight; the
 * next batch's files are read while the current one is embedded.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Encoder, EncodeInput } from '../encoder.js';
import { LIMITS } from '../limits.js';
import type { RejectRecord, StoredRecord, VectorStore } from '../store/types.js';
import { type Shard, contentKey, contentOf, shardOf, storedKey } from './content-key.js';
import type { PendingItem } from './sources.js';
import type { Reject } from './types.js';

export interface IndexRunOptions {
  /** Count what a run would do; embed and write nothing. */
  readonly dryRun?: boolean;
  /** Remove stored items that this run's sources no longer contain (within this shard). */
  readonly sync?: boolean;
  /** Embed only the items whose content key falls in this shard. */
  readonly shard?: Shard;
  /** Cut over-long texts instead of rejecting them. */
  readonly truncate?: boolean;
  /** Inputs per forward pass (never changes a result). */
  readonly batchSize?: number;
  /** Items per store commit (default 64): a crash loses at most this many. */
  readonly commitSize?: number;
  /** How many items the sources hold, when known (progress and ETA). */
  readonly total?: number;
  readonly onProgress?: (progress: IndexProgress) => void;
}

export interface IndexCounts {
  /** Embedded and stored for the first time. */
  new: number;
  /** Stored before with other content: embedded again. */
  changed: number;
  /** Same content, other path or metadata: updated without embedding. */
  updated: number;
  unchanged: number;
  /** Stored items gone from the sources (removed with `sync`). */
  removed: number;
  rejected: number;
  /** Items left to the other shards. */
  otherShards: number;
}

export interface IndexProgress extends Readonly<IndexCounts> {
  /** Items looked at so far. */
  readonly done: number;
  readonly total?: number;
  readonly elapsedSeconds: number;
}

export interface IndexRunReport extends Readonly<IndexCounts> {
  /** The first rejects, in order (all of them are in the store's rejects record). */
  readonly rejects: readonly Reject[];
  readonly elapsedSeconds: number;
}

/** Rejects kept in memory for the report; the store's rejects record has every one. */
const MAX_REPORTED_REJECTS = 1000;
/** Largest sidecar caption read, in bytes. */
const MAX_CAPTION_BYTES = 1024 * 1024;

interface ReadItem {
  readonly item: PendingItem;
  readonly id: string;
  readonly content: string;
  readonly key: string;
  readonly path: string | null;
  readonly image?: Uint8Array;
  readonly text?: string;
}

type Prepared = ReadItem | { readonly item: PendingItem; readonly rejectKey: string; readonly reason: string };

const isRead = (p: Prepared): p is ReadItem => 'content' in p;

/** Reads an item's image and caption and computes its keys; an unreadable item is a reject. */
async function readItem(item: PendingItem): Promise<Prepared> {
  const rejectKey = item.id ?? item.source;
  if (item.error) return { item, rejectKey, reason: item.error };
  try {
    let image = item.imageBytes;
    if (item.imagePath !== undefined) {
      const info = await stat(item.imagePath);
      if (!info.isFile()) return { item, rejectKey, reason: 'not a file' };
      if (info.size > LIMITS.maxImageFileBytes) return { item, rejectKey, reason: `image file is ${info.size} bytes, the limit is ${LIMITS.maxImageFileBytes}` };
      image = await readFile(item.imagePath);
    }
    let text = item.text;
    if (item.captionPath !== undefined) {
      const caption = await stat(item.captionPath).catch(() => undefined);
      if (caption?.isFile()) {
        if (caption.size > MAX_CAPTION_BYTES) return { item, rejectKey, reason: `caption ${item.captionPath} is ${caption.size} bytes, the limit is ${MAX_CAPTION_BYTES}` };
        text = (await readFile(item.captionPath, 'utf8')).trim();
      }
    }
    const content = contentKey(image, text);
    const path = item.imagePath ?? null;
    return { item, id: item.id ?? content, content, key: storedKey(content, path, item.metadata), path, ...(image ? { image } : {}), ...(text !== undefined ? { text } : {}) };
  } catch (err) {
    return { item, rejectKey, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/** An encoder error without the item's name in front (the reject record names the item already). */
function reasonOf(message: string, source: string): string {
  if (!message.startsWith(source)) return message;
  const rest = message.slice(source.length);
  const part = /^ \(([a-z]+)[^)]*\): /.exec(rest); // " (image /path/x.jpg): …" or " (text): …"
  return part ? `${part[1]}: ${rest.slice(part[0].length)}` : rest.replace(/^: /, '');
}

/**
 * Runs one indexing pass of `items` into `store`. `encoder` may be undefined only for a dry run,
 * and `store` only for a dry run against an index that does not exist yet.
 */
export async function runIndexing(store: VectorStore | undefined, encoder: Encoder | undefined, items: AsyncIterable<PendingItem> | Iterable<PendingItem>, options: IndexRunOptions = {}): Promise<IndexRunReport> {
  if (!options.dryRun && (!encoder || !store)) throw new Error('runIndexing needs an encoder and a store unless it is a dry run');
  const started = performance.now();
  const commitSize = options.commitSize ?? 64;
  const counts: IndexCounts = { new: 0, changed: 0, updated: 0, unchanged: 0, removed: 0, rejected: 0, otherShards: 0 };
  const rejects: Reject[] = [];
  const seen = new Set<string>();
  let done = 0;
  const elapsed = (): number => (performance.now() - started) / 1000;
  const progress = (): void => options.onProgress?.({ ...counts, done, ...(options.total !== undefined ? { total: options.total } : {}), elapsedSeconds: elapsed() });

  const iterator = (Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<PendingItem>)[Symbol.iterator]()) as AsyncIterator<PendingItem> | Iterator<PendingItem>;
  const nextBatch = async (): Promise<Prepared[] | undefined> => {
    const batch: PendingItem[] = [];
    while (batch.length < commitSize) {
      const next = await iterator.next();
      if (next.done) break;
      batch.push(next.value);
    }
    return batch.length === 0 ? undefined : Promise.all(batch.map(readItem));
  };

  const reject = (rejectKey: string, reason: string, records: RejectRecord[]): void => {
    counts.rejected++;
    if (rejects.length < MAX_REPORTED_REJECTS) rejects.push({ source: rejectKey, reason });
    records.push({ source: rejectKey, reason, at: new Date().toISOString() });
  };

  const runBatch = async (batch: Prepared[]): Promise<void> => {
    const rejectRecords: RejectRecord[] = [];
    const ready: ReadItem[] = [];
    for (const p of batch) {
      if (!isRead(p)) {
        reject(p.rejectKey, p.reason, rejectRecords);
        continue;
      }
      if (seen.has(p.id)) {
        reject(p.id, `duplicate id (${p.item.source}): an earlier item of this run has it`, rejectRecords);
        continue;
      }
      seen.add(p.id);
      if (options.shard && shardOf(p.content, options.shard.count) !== options.shard.index) counts.otherShards++;
      else ready.push(p);
    }
    const stored = store ? await store.keysOf(ready.map((r) => r.id)) : new Map<string, string>();
    const toEmbed: ReadItem[] = [];
    const toUpdate: ReadItem[] = [];
    for (const r of ready) {
      const old = stored.get(r.id);
      if (old === r.key) counts.unchanged++;
      else if (old !== undefined && contentOf(old) === r.content) toUpdate.push(r);
      else toEmbed.push(r);
    }
    const records: StoredRecord[] = [];
    const cleared: string[] = [];
    if (options.dryRun) {
      for (const r of toEmbed) counts[stored.has(r.id) ? 'changed' : 'new']++;
      counts.updated += toUpdate.length;
    } else {
      const inputs: EncodeInput[] = toEmbed.map((r) => ({ name: r.item.source, ...(r.image ? { image: r.image } : {}), ...(r.text !== undefined ? { text: r.text } : {}) }));
      const results = inputs.length > 0 ? await encoder!.encodeSettled(inputs, { truncate: options.truncate ?? false, ...(options.batchSize ? { batchSize: options.batchSize } : {}) }) : [];
      results.forEach((result, i) => {
        const r = toEmbed[i]!;
        if (!result.ok) return reject(r.id, reasonOf(result.error.message, r.item.source), rejectRecords);
        counts[stored.has(r.id) ? 'changed' : 'new']++;
        records.push({ id: r.id, key: r.key, vector: result.embedding, path: r.path, text: r.text ?? null, metadata: r.item.metadata });
        cleared.push(r.id);
      });
      if (toUpdate.length > 0) {
        const vectors = new Map((await store!.get(toUpdate.map((r) => r.id))).map((rec) => [rec.id, rec.vector]));
        for (const r of toUpdate) {
          const vector = vectors.get(r.id);
          if (!vector) continue; // deleted meanwhile by another process: the next run embeds it
          records.push({ id: r.id, key: r.key, vector, path: r.path, text: r.text ?? null, metadata: r.item.metadata });
          counts.updated++;
        }
      }
      await store!.upsert(records);
      await store!.recordRejects(rejectRecords, cleared);
    }
    done += batch.length;
    progress();
  };

  let pending = nextBatch();
  for (;;) {
    const batch = await pending;
    if (!batch) break;
    pending = nextBatch(); // the next files are read while this batch is embedded
    await runBatch(batch);
  }

  if (options.sync && store) {
    const gone: string[] = [];
    for await (const page of store.allKeys()) {
      for (const { id, key } of page) {
        if (seen.has(id)) continue;
        if (options.shard && shardOf(contentOf(key), options.shard.count) !== options.shard.index) continue;
        gone.push(id);
      }
    }
    counts.removed = options.dryRun ? gone.length : await store.delete(gone);
  }
  progress();
  return { ...counts, rejects, elapsedSeconds: elapsed() };
}
