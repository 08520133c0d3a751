/**
 * The embedded store: LanceDB in a folder. The folder holds `index.json` (the manifest), the
 * `items` table (id, content key, vector, path, text, metadata as JSON) and `rejects.jsonl`.
 * Every upsert is one Lance commit, so a crash loses at most the batch being written.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, linkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import { ConfigError } from '../errors.js';
import { makeDirs } from '../util/fs.js';
import type { Filter } from './filter.js';
import type { IndexManifest, RejectRecord, StoredRecord, VectorStore } from './types.js';

const TABLE = 'items';
const MANIFEST = 'index.json';
const REJECTS = 'rejects.jsonl';
/** IVF-PQ needs this many vectors to train its codebooks (256 centroids per sub-vector). */
const MIN_ANN_ROWS = 256;
/** Probed partitions and refine factor: recall@10 ≈ 0.96 at 100k clustered vectors (engine-feasibility.md). */
const ANN_NPROBES = 20;
const ANN_REFINE = 10;
/** Ids per `IN (…)` predicate. */
const ID_CHUNK = 500;

/** A SQL string literal for Lance's filter language. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function inList(ids: readonly string[]): string {
  return `id IN (${ids.map(quote).join(', ')})`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class LanceStore implements VectorStore {
  readonly kind = 'lancedb';
  readonly location: string;
  private table?: lancedb.Table;

  private constructor(
    private readonly dir: string,
    private readonly db: lancedb.Connection,
  ) {
    this.location = dir;
  }

  static async open(dir: string): Promise<LanceStore> {
    const abs = resolve(dir);
    if (existsSync(abs) && !statSync(abs).isDirectory()) throw new ConfigError(`--index ${dir}: is a file, not an index folder`);
    // readConsistencyInterval 0: every read sees the latest commit, also another process's.
    const db = await lancedb.connect(abs, { readConsistencyInterval: 0 });
    return new LanceStore(abs, db);
  }

  private manifestPath(): string {
    return join(this.dir, MANIFEST);
  }

  async readManifest(): Promise<IndexManifest | undefined> {
    let text: string;
    try {
      text = readFileSync(this.manifestPath(), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as IndexManifest;
    } catch (err) {
      throw new ConfigError(`${this.manifestPath()}: not a readable index manifest (${(err as Error).message})`, { cause: err });
    }
  }

  async create(manifest: IndexManifest): Promise<IndexManifest> {
    makeDirs(this.dir);
    const tmp = join(this.dir, `.${MANIFEST}.${randomUUID()}`);
    writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      // link() fails when the manifest exists: the first creator wins, atomically.
      linkSync(tmp, this.manifestPath());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
    const current = (await this.readManifest())!;
    await this.items(current.dim);
    return current;
  }

  /** The items table, created on first use. */
  private async items(dim?: number): Promise<lancedb.Table> {
    if (this.table) return this.table;
    const names = await this.db.tableNames();
    if (names.includes(TABLE)) {
      this.table = await this.db.openTable(TABLE);
    } else {
      if (dim === undefined) dim = (await this.readManifest())?.dim;
      if (dim === undefined) throw new ConfigError(`${this.dir}: no index here (no ${MANIFEST})`);
      const schema = new Schema([
        new Field('id', new Utf8(), false),
        new Field('key', new Utf8(), false),
        new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
        new Field('path', new Utf8(), true),
        new Field('text', new Utf8(), true),
        new Field('metadata', new Utf8(), false),
      ]);
      try {
        this.table = await this.db.createEmptyTable(TABLE, schema, { existOk: true });
      } catch {
        this.table = await this.db.openTable(TABLE);
      }
    }
    return this.table;
  }

  async upsert(records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    const table = await this.items();
    const rows = records.map((r) => ({
      id: r.id,
      key: r.key,
      vector: Array.from(r.vector),
      path: r.path,
      text: r.text,
      metadata: JSON.stringify(r.metadata),
    }));
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
  }

  async delete(ids: readonly string[]): Promise<number> {
    const table = await this.items();
    let deleted = 0;
    for (const part of chunks(ids, ID_CHUNK)) deleted += (await table.delete(inList(part))).numDeletedRows;
    return deleted;
  }

  async keysOf(ids: readonly string[]): Promise<Map<string, string>> {
    const table = await this.items();
    const keys = new Map<string, string>();
    for (const part of chunks(ids, ID_CHUNK)) {
      const rows = (await table.query().where(inList(part)).select(['id', 'key']).toArray()) as { id: string; key: string }[];
      for (const r of rows) keys.set(r.id, r.key);
    }
    return keys;
  }

  async *allKeys(): AsyncIterable<readonly { id: string; key: string }[]> {
    const table = await this.items();
    for await (const batch of table.query().select(['id', 'key'])) {
      const ids = batch.getChild('id')!;
      const keys = batch.getChild('key')!;
      const out: { id: string; key: string }[] = [];
      for (let i = 0; i < batch.numRows; i++) out.push({ id: ids.get(i) as string, key: keys.get(i) as string });
      yield out;
    }
  }

  async get(ids: readonly string[]): Promise<StoredRecord[]> {
    const table = await this.items();
    const out: StoredRecord[] = [];
    for (const part of chunks(ids, ID_CHUNK)) {
      for await (const batch of table.query().where(inList(part))) out.push(...recordsOf(batch));
    }
    return out;
  }

  async count(): Promise<number> {
    return (await this.items()).countRows();
  }

  async *scan(): AsyncIterable<readonly StoredRecord[]> {
    const table = await this.items();
    for await (const batch of table.query()) yield recordsOf(batch);
  }

  async revision(): Promise<string> {
    return String(await (await this.items()).version());
  }

  async annCandidates(query: Float32Array, limit: number, _filter: Filter | undefined, exclude: readonly string[]): Promise<StoredRecord[] | undefined> {
    if (!(await this.hasAnn())) return undefined;
    const table = await this.items();
    let search = table.vectorSearch(query).distanceType('dot').nprobes(ANN_NPROBES).refineFactor(ANN_REFINE).limit(limit);
    if (exclude.length > 0) search = search.where(`NOT (${inList(exclude)})`);
    const out: StoredRecord[] = [];
    for await (const batch of search) out.push(...recordsOf(batch));
    return out;
  }

  async buildAnn(): Promise<boolean> {
    const table = await this.items();
    const rows = await table.countRows();
    if (rows < MIN_ANN_ROWS) return false;
    const dim = (await this.readManifest())!.dim;
    const numPartitions = Math.max(1, Math.min(256, Math.round(Math.sqrt(rows))));
    const numSubVectors = dim % 8 === 0 ? dim / 8 : dim % 4 === 0 ? dim / 4 : 1;
    await table.createIndex('vector', { config: lancedb.Index.ivfPq({ numPartitions, numSubVectors, distanceType: 'dot' }), replace: true });
    return true;
  }

  /** Once seen, an ANN index is remembered: asking the table costs more than an ANN query. */
  private annSeen = false;

  async hasAnn(): Promise<boolean> {
    if (this.annSeen) return true;
    const indices = await (await this.items()).listIndices();
    this.annSeen = indices.some((i) => i.columns.includes('vector'));
    return this.annSeen;
  }

  /** Compacts the many small commits of a long run into few files. */
  async optimize(): Promise<void> {
    await (await this.items()).optimize();
  }

  async recordRejects(rejects: readonly RejectRecord[], cleared: readonly string[]): Promise<void> {
    if (rejects.length === 0 && cleared.length === 0) return;
    const path = join(this.dir, REJECTS);
    const replaced = new Set([...cleared, ...rejects.map((r) => r.source)]);
    const existing = this.readRejects();
    const kept = existing.filter((r) => !replaced.has(r.source));
    if (rejects.length === 0 && kept.length === existing.length) return;
    const tmp = `${path}.${randomUUID()}`;
    writeFileSync(tmp, [...kept, ...rejects].map((r) => `${JSON.stringify(r)}\n`).join(''));
    renameSync(tmp, path);
  }

  private readRejects(): RejectRecord[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, REJECTS), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RejectRecord);
  }

  async rejectCount(): Promise<number> {
    return this.readRejects().length;
  }

  async ping(): Promise<void> {
    await (await this.items()).countRows();
  }

  async close(): Promise<void> {
    this.table?.close();
    this.db.close();
  }
}

/**
 * The vector column's rows as views into Arrow's own float32 buffers (copied once, per row): reading
 * row by row through `get(i).toArray()` costs seconds at 100k rows.
 */
function vectorsOf(batch: RecordBatch): Float32Array[] {
  const column = batch.getChild('vector')!;
  const out: Float32Array[] = [];
  for (const data of column.data) {
    const dim = (data.type as { listSize: number }).listSize;
    const child = data.children[0]!;
    const values = child.values as Float32Array;
    // A sliced FixedSizeList carries its offset in the child (already scaled by the list size).
    for (let i = 0; i < data.length; i++) {
      const start = child.offset + i * dim;
      out.push(values.slice(start, start + dim));
    }
  }
  return out;
}

function recordsOf(batch: RecordBatch): StoredRecord[] {
  const vectorRows = vectorsOf(batch);
  const col = (name: string) => batch.getChild(name)!;
  const [ids, keys, paths, texts, metadata] = ['id', 'key', 'path', 'text', 'metadata'].map(col) as [
    ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>,
  ];
  const out: StoredRecord[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    out.push({
      id: ids.get(i) as string,
      key: keys.get(i) as string,
      vector: vectorRows[i]!,
      path: (paths.get(i) as string | null) ?? null,
      text: (texts.get(i) as string | null) ?? null,
      metadata: JSON.parse(metadata.get(i) as string) as Record<string, unknown>,
    });
  }
  return out;
}
