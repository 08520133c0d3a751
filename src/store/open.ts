/** Opens the store a location names: a postgres:// URL, else a LanceDB folder. */
import { DEFAULT_INDEX_DIR, isPostgresUrl } from './location.js';
import type { VectorStore } from './types.js';

export { DEFAULT_INDEX_DIR, isPostgresUrl, redactUrl } from './location.js';

/** Each adapter's native library (LanceDB, pg) is loaded on first use, so commands that need neither start fast. */
export async function openStore(location: string = DEFAULT_INDEX_DIR): Promise<VectorStore> {
  if (isPostgresUrl(location)) return (await import('./postgres.js')).PostgresStore.open(location);
  return (await import('./lancedb.js')).LanceStore.open(location);
}
