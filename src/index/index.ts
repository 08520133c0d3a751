/**
 * An `Index` over a collection: open or create it in a store, add items (embedded through the
 * encoder, content-keyed), search it with texts, images, both, or a stored item, delete, count.
 * Every index records the provenance of the encoder that filled it; an encoder whose model or
 * preprocessing differs is refused, so vectors of two models never meet in one ranking.
 *
 *   const index = await Index.open({ location: './vbge-index', encoder, create: true });
 *   await index.add([{ image: 'night.jpg' }, { image: 'day.jpg', metadata: { year: 2020 } }]);
 *   const hits = await index.search({ image: 'photo.jpg', text: 'make the background dark' }, { k: 5 });
 */
import { resolve } from 'node:path';
import type { Encoder, EncodeInput } from '../encoder.js';
import { ConfigError, InputError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { parseFilter } from '../store/filter.js';
import { openStore, DEFAULT_INDEX_DIR } from '../store/open.js';
import { Searcher } from '../store/search.js';
import type { IndexManifest, VectorStore } from '../store/types.js';
import { type IndexRunOptions, type IndexRunReport, runIndexing } from './indexer.js';
import type { PendingItem } from './sources.js';
import type { IndexItem, IndexStats, Metadata, Query, SearchHit, SearchOptions } from './types.js';

export interface IndexOpenOptions {
  /** A folder (LanceDB; default `./vbge-index`) or a `postgres://…` URL (`?index=NAME` picks the table). */
  readonly location?: string;
  /** Needed to add items and to search with texts or images; its provenance must match the index's. */
  readonly encoder?: Encoder;
  /** Create the index when there is none (default: a missing index is an error). */
  readonly create?: boolean;
  /** How to load this model again, recorded at creation (e.g. `{ model: 'base' }`). */
  readonly model?: Readonly<Record<string, string>>;
}

export interface AddOptions {
  readonly truncate?: boolean;
  readonly batchSize?: number;
  readonly onProgress?: (p: { done: number; rejected: number; total?: number }) => void;
}

/** Provenance fields that decide what a vector means; runtime fields (ORT version, CPU path) may differ. */
const MODEL_FIELDS = ['checkpointSha256', 'textWeightsSha256', 'tokenizerSha256', 'visionConfig', 'modelConfigSha256', 'preprocessing', 'dim'] as const;

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[0-9a-f]{64}$/.test(text) ? `${text.slice(0, 12)}…` : text;
}

/** What differs between an index's provenance and an encoder's, in words; empty when they match. */
export function provenanceDifferences(indexed: Readonly<Record<string, unknown>>, current: Readonly<Record<string, unknown>>): string[] {
  return MODEL_FIELDS.filter((f) => JSON.stringify(indexed[f] ?? null) !== JSON.stringify(current[f] ?? null)).map(
    (f) => `${f} is ${short(indexed[f] ?? null)} in the index, ${short(current[f] ?? null)} in this model`,
  );
}

export class Index {
  private readonly searcher: Searcher;

  private constructor(
    private readonly store: VectorStore,
    readonly manifest: IndexManifest,
    readonly encoder: Encoder | undefined,
  ) {
    this.searcher = new Searcher(store, manifest.dim);
  }

  static async open(options: IndexOpenOptions = {}): Promise<Index> {
    const store = await openStore(options.location ?? DEFAULT_INDEX_DIR);
    try {
      let manifest = await store.readManifest();
      if (!manifest) {
        if (!options.create) throw new ConfigError(`${store.location}: no index here (create one with \`vbge index PATH… --${store.kind === 'postgres' ? 'store' : 'index'} ${store.location}\`)`);
        if (!options.encoder) throw new ConfigError(`${store.location}: creating an index needs the encoder that will fill it`);
        const provenance = (await options.encoder.provenance()) as unknown as Record<string, unknown>;
        manifest = await store.create({ format: 'vbge-index/1', dim: options.encoder.dim, provenance, model: options.model ?? {}, createdAt: new Date().toISOString() });
      }
      if (manifest.format !== 'vbge-index/1') throw new ConfigError(`${store.location}: index format "${String(manifest.format)}" is not one this version reads (vbge-index/1)`);
      if (options.encoder) {
        const differences = provenanceDifferences(manifest.provenance, (await options.encoder.provenance()) as unknown as Record<string, unknown>);
        if (differences.length > 0)
          throw new ConfigError(`${store.location} was built with another model or preprocessing; its vectors cannot be compared with this model's: ${differences.join('; ')}`);
      }
      return new Index(store, manifest, options.encoder);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  get location(): string {
    return this.store.location;
  }

  get dim(): number {
    return this.manifest.dim;
  }

  private needEncoder(what: string): Encoder {
    if (!this.encoder) throw new ConfigError(`${what} needs an encoder: open the index with one`);
    return this.encoder;
  }

  /** Embeds and stores items (content-keyed: an id that holds the same content is not embedded again). */
  async add(items: Iterable<IndexItem> | AsyncIterable<IndexItem>, options: AddOptions = {}): Promise<{ added: number; unchanged: number; rejects: IndexRunReport['rejects'] }> {
    const report = await this.run(pendingOf(items), {
      ...(options.truncate !== undefined ? { truncate: options.truncate } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { added: report.new + report.changed + report.updated, unchanged: report.unchanged, rejects: report.rejects };
  }

  /** One indexing run over pending items (what `vbge index` does): dry runs, sync, shards, progress. */
  async run(items: AsyncIterable<PendingItem> | Iterable<PendingItem>, options: IndexRunOptions = {}): Promise<IndexRunReport> {
    const encoder = options.dryRun ? this.encoder : this.needEncoder('adding items');
    let report: IndexRunReport;
    try {
      report = await runIndexing(this.store, encoder, items, options);
    } finally {
      this.searcher.invalidate();
    }
    // Compacting the run's many small commits can wait for the next run when this one failed.
    if (!options.dryRun && this.store.optimize) await this.store.optimize();
    return report;
  }

  /** The manifest of the index at `location` (undefined: none there), read without an encoder: which model to load. */
  static async readManifest(location: string = DEFAULT_INDEX_DIR): Promise<IndexManifest | undefined> {
    const store = await openStore(location);
    try {
      return await store.readManifest();
    } finally {
      await store.close();
    }
  }

  /** What a run would do against an index that does not exist yet: every readable item is new. */
  static dryRunWithoutIndex(items: AsyncIterable<PendingItem> | Iterable<PendingItem>, options: Omit<IndexRunOptions, 'dryRun'> = {}): Promise<IndexRunReport> {
    return runIndexing(undefined, undefined, items, { ...options, dryRun: true });
  }

  /** Builds the store's ANN index; false when there are too few items to train one. */
  buildAnn(): Promise<boolean> {
    return this.store.buildAnn();
  }

  async search(query: Query, options: SearchOptions = {}): Promise<SearchHit[]> {
    if (query === null || typeof query !== 'object') throw new InputError('query', 'must be { text }, { image }, both, or { id }');
    if ('id' in query) {
      if (typeof query.id !== 'string') throw new InputError('query', '"id" must be a string');
      const [record] = await this.store.get([query.id]);
      if (!record) throw new InputError(`query { id: ${JSON.stringify(query.id)} }`, `no item with this id in ${this.location}`);
      return this.searchVector(record.vector, { ...options, exclude: [...(options.exclude ?? []), query.id] });
    }
    const encoder = this.needEncoder('a text or image query');
    const input: EncodeInput = { name: 'query', ...(query.text !== undefined ? { text: query.text } : {}), ...(query.image !== undefined ? { image: query.image } : {}) };
    const [vector] = await encoder.encode([input]);
    return this.searchVector(vector!, options);
  }

  async searchVector(vector: Float32Array, options: SearchOptions = {}): Promise<SearchHit[]> {
    if (!(vector instanceof Float32Array) || vector.length !== this.dim) throw new InputError('query vector', `must be a Float32Array of ${this.dim} values`);
    const k = options.k ?? 10;
    const offset = options.offset ?? 0;
    for (const [name, value] of [['k', k], ['offset', offset]] as const)
      if (!Number.isSafeInteger(value) || value < 0) throw new InputError(name, `must be a non-negative integer, got ${value}`);
    if (k + offset > LIMITS.maxSearchResults) throw new InputError('k + offset', `is ${k + offset}; the limit is ${LIMITS.maxSearchResults}`);
    const ranked = await this.searcher.search(vector, {
      k,
      offset,
      ...(options.where !== undefined ? { filter: parseFilter(options.where) } : {}),
      exclude: options.exclude ?? [],
      ann: options.ann ?? false,
    });
    return ranked.map(({ record, score }) => ({
      id: record.id,
      score,
      ...(record.path !== null ? { path: record.path } : {}),
      ...(record.text !== null ? { text: record.text } : {}),
      metadata: record.metadata,
    }));
  }

  async get(id: string): Promise<{ id: string; path?: string; text?: string; metadata: Metadata } | undefined> {
    const [record] = await this.store.get([id]);
    if (!record) return undefined;
    return { id: record.id, ...(record.path !== null ? { path: record.path } : {}), ...(record.text !== null ? { text: record.text } : {}), metadata: record.metadata };
  }

  async delete(ids: readonly string[]): Promise<number> {
    const n = await this.store.delete(ids);
    this.searcher.invalidate();
    return n;
  }

  /** Whether the store has an ANN index (built by `vbge index --ann` or `buildAnn`). */
  hasAnn(): Promise<boolean> {
    return this.store.hasAnn();
  }

  async stats(): Promise<IndexStats> {
    return {
      items: await this.store.count(),
      rejects: await this.store.rejectCount(),
      dim: this.dim,
      location: this.location,
      store: this.store.kind,
      ann: await this.hasAnn(),
      provenance: this.manifest.provenance,
    };
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  /** Closes the store (the encoder belongs to the caller). */
  close(): Promise<void> {
    return this.store.close();
  }
}

/** Library items as pending items: ids default to the image path or the content key. */
async function* pendingOf(items: Iterable<IndexItem> | AsyncIterable<IndexItem>): AsyncGenerator<PendingItem> {
  let n = 0;
  for await (const item of items) {
    const position = `item ${n++}`;
    if (item === null || typeof item !== 'object') {
      yield { source: position, metadata: {}, error: 'must be an object with "image" and/or "text"' };
      continue;
    }
    const id = item.id ?? (typeof item.image === 'string' ? item.image : undefined);
    const base = { ...(id !== undefined ? { id } : {}), source: id ?? position, metadata: item.metadata ?? {} };
    if (item.image === undefined && item.text === undefined) yield { ...base, error: 'has neither "image" nor "text"' };
    else if (item.image !== undefined && typeof item.image !== 'string' && !(item.image instanceof Uint8Array)) yield { ...base, error: '"image" must be a file path or file bytes' };
    else if (item.text !== undefined && typeof item.text !== 'string') yield { ...base, error: '"text" must be a string' };
    else
      yield {
        ...base,
        ...(typeof item.image === 'string' ? { imagePath: resolve(item.image) } : {}),
        ...(item.image instanceof Uint8Array ? { imageBytes: item.image } : {}),
        ...(item.text !== undefined ? { text: item.text } : {}),
      };
  }
}
