/**
 * The `VectorStore` interface: what an `Index` needs from the place its vectors live. Two adapters:
 * LanceDB in a folder (embedded default, lancedb.ts) and Postgres with pgvector (postgres.ts).
 * Stores keep bytes; ranking, scoring and filtering semantics live above them (store/search.ts), so
 * both stores answer a query with the same ids and the same scores.
 */
import type { Filter } from './filter.js';

/** One stored item. `key` is the content key (sha256 of image bytes and text) the vector came from. */
export interface StoredRecord {
  readonly id: string;
  readonly key: string;
  readonly vector: Float32Array;
  readonly path: string | null;
  readonly text: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export type RecordInfo = Omit<StoredRecord, 'vector'>;

/** What was embedded with what: written when an index is created, checked on every open. */
export interface IndexManifest {
  readonly format: 'vbge-index/1';
  readonly dim: number;
  /** The encoder's provenance record (model fingerprints, preprocessing, runtime). */
  readonly provenance: Readonly<Record<string, unknown>>;
  /** How to load the model again (`vbge search` without model options). */
  readonly model: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

/** A rejected input, as recorded beside the index. */
export interface RejectRecord {
  readonly source: string;
  readonly reason: string;
  readonly at: string;
}

export interface AnnSettings {
  /** How many candidates the ANN index returns before exact re-scoring (≥ k). */
  readonly candidates: number;
}

export interface VectorStore {
  readonly kind: 'lancedb' | 'postgres';
  /** Where the index lives, for messages (a Postgres password is removed). */
  readonly location: string;

  /** The manifest, or undefined when no index exists there yet. */
  readManifest(): Promise<IndexManifest | undefined>;
  /** Creates the index with this manifest; when another process created it first, returns theirs. */
  create(manifest: IndexManifest): Promise<IndexManifest>;

  /** Inserts or replaces records by id, atomically per call (a crash loses at most this call). */
  upsert(records: readonly StoredRecord[]): Promise<void>;
  /** Removes records by id; returns how many existed. */
  delete(ids: readonly string[]): Promise<number>;
  /** The content keys of those of `ids` that are stored. */
  keysOf(ids: readonly string[]): Promise<Map<string, string>>;
  /** Every stored id with its content key, in batches (for `--sync`). */
  allKeys(): AsyncIterable<readonly { id: string; key: string }[]>;
  /** Full records (vectors included) of those of `ids` that are stored. */
  get(ids: readonly string[]): Promise<StoredRecord[]>;
  count(): Promise<number>;

  /** Everything, in batches: the embedded store's exact search keeps it in memory. */
  scan(): AsyncIterable<readonly StoredRecord[]>;
  /** Changes whenever the stored records change (a cache of `scan` is valid while it stays equal). */
  revision(): Promise<string>;

  /** Candidates for an exact search done by the store itself (Postgres), best first; undefined when the store cannot. */
  exactCandidates?(query: Float32Array, limit: number, filter: Filter | undefined, exclude: readonly string[]): Promise<StoredRecord[]>;
  /** Candidates from the store's ANN index, or undefined when it has none. */
  annCandidates(query: Float32Array, limit: number, filter: Filter | undefined, exclude: readonly string[]): Promise<StoredRecord[] | undefined>;
  /** Builds (or rebuilds) the ANN index; false when there are too few vectors to train one. */
  buildAnn(): Promise<boolean>;
  hasAnn(): Promise<boolean>;

  /** Compacts what many small commits left behind (LanceDB); optional. */
  optimize?(): Promise<void>;

  /** Replaces the rejects of `sources` with these (an empty reason list clears them). */
  recordRejects(rejects: readonly RejectRecord[], cleared: readonly string[]): Promise<void>;
  rejectCount(): Promise<number>;

  /** Rejects when the store does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
