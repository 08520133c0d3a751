/**
 * The retrieval contract: what an `Index` takes and returns. The CLI (`vbge index`, `vbge search`),
 * the server (`/v1/search`) and the evaluation harness all speak these types.
 */
import type { ImageInput } from '../encoder.js';

/** Metadata values a filter can compare; nested objects are kept but cannot be filtered on. */
export type MetadataValue = string | number | boolean | null;
export type Metadata = Readonly<Record<string, unknown>>;

/** One thing to put into an index: an image, a text, or both (a composed entry). */
export interface IndexItem {
  /** Stable id; default: the image path (relative, as given) or the content key. */
  readonly id?: string;
  /** A file path (stored, and served as the item's thumbnail), or file bytes. */
  readonly image?: string | Uint8Array;
  readonly text?: string;
  readonly metadata?: Metadata;
}

/** A query: a text, an image, both (composed), or an item already in the index ("more like this"). */
export type Query = { readonly text?: string; readonly image?: ImageInput } | { readonly id: string };

export interface SearchOptions {
  /** How many results (default 10). */
  readonly k?: number;
  /** Results to skip before the first returned one (paging; default 0). */
  readonly offset?: number;
  /** A metadata filter, e.g. `year >= 2020 AND kind IN ('photo', 'scan')` (see store/filter.ts). */
  readonly where?: string;
  /** Use the store's approximate index (when one exists) instead of the exact scan. */
  readonly ann?: boolean;
  /** Ids never returned (a `{ id }` query always excludes its own id). */
  readonly exclude?: readonly string[];
}

/** One search result, best first; ties in score are broken by id (ascending). */
export interface SearchHit {
  readonly id: string;
  /** Cosine similarity (the vectors are L2-normalised). */
  readonly score: number;
  /** The image path as indexed, when the item has one. */
  readonly path?: string;
  readonly text?: string;
  readonly metadata: Metadata;
}

export interface IndexStats {
  readonly items: number;
  readonly rejects: number;
  readonly dim: number;
  /** Where the index lives: a folder (LanceDB) or a postgres:// URL (password removed). */
  readonly location: string;
  readonly store: 'lancedb' | 'postgres';
  readonly ann: boolean;
  /** The encoder provenance recorded when the index was created. */
  readonly provenance: Readonly<Record<string, unknown>>;
}

/** Why an item was not embedded; kept in `rejects.jsonl` / the rejects table. */
export interface Reject {
  /** The item's id, path or manifest position: what the user finds it by. */
  readonly source: string;
  readonly reason: string;
}
