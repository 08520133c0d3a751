/**
 * The scale-out store: Postgres with pgvector, through `pg`. One table per index
 * (`postgres://…/db?index=NAME`, default `vbge_index`): `NAME` (id, content key, vector(d), path,
 * text, metadata jsonb), `NAME_meta` (the manifest) and `NAME_rejects`. Every statement stands alone
 * (no multi-statement transactions): an upsert of a batch is one atomic INSERT … ON CONFLICT, so
 * shards writing at once, a crash or a rerun can never leave half a batch or a duplicate.
 */
import pg from 'pg';
import pgvector from 'pgvector';
import { ConfigError } from '../errors.js';
import { type Filter, filterToSql } from './filter.js';
import { redactUrl } from './location.js';
import type { IndexManifest, RejectRecord, StoredRecord, VectorStore } from './types.js';

const DEFAULT_INDEX = 'vbge_index';
const INDEX_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
/** Rows per page when reading everything. */
const PAGE = 5000;
/** HNSW candidates examined per query (pgvector's default is 40); raised to the candidates wanted. */
const HNSW_EF_SEARCH = 100;

function parseLocation(location: string): { connectionString: string; index: string } {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ConfigError(`--store ${redactUrl(location)}: not a valid postgres:// URL`);
  }
  const index = url.searchParams.get('index') ?? DEFAULT_INDEX;
  if (!INDEX_NAME.test(index))
    throw new ConfigError(`--store ${redactUrl(location)}: index name "${index}" must be lower-case letters, digits and _ (at most 40, not starting with a digit)`);
  url.searchParams.delete('index');
  return { connectionString: url.toString(), index };
}

interface Row {
  id: string;
  key: string;
  embedding: string;
  path: string | null;
  text: string | null;
  metadata: Record<string, unknown>;
}

const COLUMNS = 'id, key, embedding::text AS embedding, path, text, metadata';

function recordOf(row: Row): StoredRecord {
  return {
    id: row.id,
    key: row.key,
    vector: Float32Array.from(pgvector.fromSql(row.embedding) as number[]),
    path: row.path,
    text: row.text,
    metadata: row.metadata,
  };
}

function vectorLiteral(v: Float32Array): string {
  // Each float32 printed as the double it is exactly: pgvector's strtof reads back the same bits.
  return pgvector.toSql(Array.from(v)) as string;
}

export class PostgresStore implements VectorStore {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly table: string;

  private constructor(
    location: string,
    private readonly pool: pg.Pool,
    private readonly name: string,
  ) {
    this.location = redactUrl(location);
    this.table = `"${name}"`;
  }

  static async open(location: string): Promise<PostgresStore> {
    const { connectionString, index } = parseLocation(location);
    const pool = new pg.Pool({ connectionString, max: 4 });
    // An idle client's error (server restarted) must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const store = new PostgresStore(location, pool, index);
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new ConfigError(`--store ${store.location}: cannot connect (${(err as Error).message})`, { cause: err });
    }
    return store;
  }

  private get meta(): string {
    return `"${this.name}_meta"`;
  }

  private get rejects(): string {
    return `"${this.name}_rejects"`;
  }

  async readManifest(): Promise<IndexManifest | undefined> {
    const exists = await this.pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${this.name}_meta`]);
    if (!exists.rows[0]?.t) return undefined;
    const r = await this.pool.query<{ manifest: IndexManifest }>(`SELECT manifest FROM ${this.meta} WHERE id = 1`);
    return r.rows[0]?.manifest;
  }

  async create(manifest: IndexManifest): Promise<IndexManifest> {
    const ignoreRace = (err: unknown): void => {
      // Another process created it between IF NOT EXISTS and CREATE (42P07, 23505): fine.
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
    };
    try {
      await this.pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (err) {
      ignoreRace(err);
    }
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.meta} (id int PRIMARY KEY CHECK (id = 1), manifest jsonb NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${this.table} (id text PRIMARY KEY, key text NOT NULL, embedding vector(${manifest.dim}) NOT NULL, path text, text text, metadata jsonb NOT NULL DEFAULT '{}'::jsonb)`,
      `CREATE TABLE IF NOT EXISTS ${this.rejects} (source text PRIMARY KEY, reason text NOT NULL, at timestamptz NOT NULL)`,
    ];
    for (const sql of statements) await this.pool.query(sql).catch(ignoreRace);
    await this.pool.query(`INSERT INTO ${this.meta} (id, manifest) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [JSON.stringify(manifest)]);
    return (await this.readManifest())!;
  }

  async upsert(records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    const params: unknown[] = [];
    const values = records.map((r) => {
      params.push(r.id, r.key, vectorLiteral(r.vector), r.path, r.text, JSON.stringify(r.metadata));
      const n = params.length;
      return `($${n - 5}, $${n - 4}, $${n - 3}::vector, $${n - 2}, $${n - 1}, $${n}::jsonb)`;
    });
    await this.pool.query(
      `INSERT INTO ${this.table} (id, key, embedding, path, text, metadata) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key, embedding = EXCLUDED.embedding, path = EXCLUDED.path, text = EXCLUDED.text, metadata = EXCLUDED.metadata`,
      params,
    );
  }

  async delete(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await this.pool.query(`DELETE FROM ${this.table} WHERE id = ANY($1::text[])`, [ids]);
    return r.rowCount ?? 0;
  }

  async keysOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const r = await this.pool.query<{ id: string; key: string }>(`SELECT id, key FROM ${this.table} WHERE id = ANY($1::text[])`, [ids]);
    return new Map(r.rows.map((row) => [row.id, row.key]));
  }

  async *allKeys(): AsyncIterable<readonly { id: string; key: string }[]> {
    let after = '';
    for (;;) {
      const r = await this.pool.query<{ id: string; key: string }>(`SELECT id, key FROM ${this.table} WHERE id > $1 ORDER BY id COLLATE "C" LIMIT ${PAGE}`, [after]);
      if (r.rows.length === 0) return;
      yield r.rows;
      after = r.rows[r.rows.length - 1]!.id;
    }
  }

  async get(ids: readonly string[]): Promise<StoredRecord[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE id = ANY($1::text[])`, [ids]);
    return r.rows.map(recordOf);
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(r.rows[0]!.n);
  }

  async *scan(): AsyncIterable<readonly StoredRecord[]> {
    let after = '';
    for (;;) {
      const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} WHERE id > $1 ORDER BY id COLLATE "C" LIMIT ${PAGE}`, [after]);
      if (r.rows.length === 0) return;
      yield r.rows.map(recordOf);
      after = r.rows[r.rows.length - 1]!.id;
    }
  }

  /** A digest of every id and content key: changes with any write (this store searches in SQL, so it is rarely needed). */
  async revision(): Promise<string> {
    const r = await this.pool.query<{ d: string | null }>(`SELECT md5(string_agg(id || ':' || key, ',' ORDER BY id COLLATE "C")) AS d FROM ${this.table}`);
    return r.rows[0]?.d ?? 'empty';
  }

  /** The candidates' WHERE clause: the filter and the excluded ids, as parameters after `params`. */
  private where(filter: Filter | undefined, exclude: readonly string[], params: unknown[]): string {
    const parts: string[] = [];
    if (filter) parts.push(filterToSql(filter, 'metadata', params));
    if (exclude.length > 0) {
      params.push(exclude);
      parts.push(`NOT (id = ANY($${params.length}::text[]))`);
    }
    return parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '';
  }

  async exactCandidates(query: Float32Array, limit: number, filter: Filter | undefined, exclude: readonly string[]): Promise<StoredRecord[]> {
    const params: unknown[] = [vectorLiteral(query)];
    const where = this.where(filter, exclude, params);
    // "+ 0" keeps the planner off the HNSW index: this scan is exact.
    const r = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} ${where} ORDER BY (embedding <#> $1::vector) + 0, id LIMIT ${limit}`, params);
    return r.rows.map(recordOf);
  }

  async annCandidates(query: Float32Array, limit: number, filter: Filter | undefined, exclude: readonly string[]): Promise<StoredRecord[] | undefined> {
    if (!(await this.hasAnn())) return undefined;
    const params: unknown[] = [vectorLiteral(query)];
    const where = this.where(filter, exclude, params);
    const client = await this.pool.connect();
    try {
      await client.query(`SET hnsw.ef_search = ${Math.min(1000, Math.max(HNSW_EF_SEARCH, limit))}`);
      // With a filter, keep scanning the graph until enough rows pass (pgvector ≥ 0.8).
      if (filter || exclude.length > 0) await client.query(`SET hnsw.iterative_scan = relaxed_order`).catch(() => undefined);
      const r = await client.query<Row>(`SELECT ${COLUMNS} FROM ${this.table} ${where} ORDER BY embedding <#> $1::vector LIMIT ${limit}`, params);
      return r.rows.map(recordOf);
    } finally {
      client.release();
    }
  }

  private get annIndex(): string {
    return `${this.name}_hnsw`;
  }

  async buildAnn(): Promise<boolean> {
    await this.pool.query(`CREATE INDEX IF NOT EXISTS "${this.annIndex}" ON ${this.table} USING hnsw (embedding vector_ip_ops)`);
    return true;
  }

  /** Once seen, the HNSW index is remembered (a catalogue query per search would cost more than the search). */
  private annSeen = false;

  async hasAnn(): Promise<boolean> {
    if (this.annSeen) return true;
    const r = await this.pool.query('SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2', [this.name, this.annIndex]);
    this.annSeen = r.rows.length > 0;
    return this.annSeen;
  }

  async recordRejects(rejects: readonly RejectRecord[], cleared: readonly string[]): Promise<void> {
    if (cleared.length > 0) await this.pool.query(`DELETE FROM ${this.rejects} WHERE source = ANY($1::text[])`, [cleared]);
    if (rejects.length === 0) return;
    const params: unknown[] = [];
    const values = rejects.map((r) => {
      params.push(r.source, r.reason, r.at);
      return `($${params.length - 2}, $${params.length - 1}, $${params.length}::timestamptz)`;
    });
    await this.pool.query(
      `INSERT INTO ${this.rejects} (source, reason, at) VALUES ${values.join(', ')} ON CONFLICT (source) DO UPDATE SET reason = EXCLUDED.reason, at = EXCLUDED.at`,
      params,
    );
  }

  async rejectCount(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.rejects}`);
    return Number(r.rows[0]!.n);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
