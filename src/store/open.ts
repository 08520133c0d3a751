/** Opens the store a location names: a postgres:// URL, else a LanceDB folder. */
import { LanceStore } from './lancedb.js';
import { PostgresStore, isPostgresUrl } from './postgres.js';
import type { VectorStore } from './types.js';

/** Where `vbge index` / `vbge search` keep the index when no --index or --store is given. */
export const DEFAULT_INDEX_DIR = './vbge-index';

export async function openStore(location: string = DEFAULT_INDEX_DIR): Promise<VectorStore> {
  return isPostgresUrl(location) ? PostgresStore.open(location) : LanceStore.open(location);
}

export { isPostgresUrl, redactUrl } from './postgres.js';
