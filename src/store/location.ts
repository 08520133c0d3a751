/**
 * Where an index lives, told apart without loading any store: a postgres:// URL, else a LanceDB
 * folder. (The adapters load their native libraries only when a store is opened.)
 */

/** Where `vbge index` / `vbge search` keep the index when no --index or --store is given. */
export const DEFAULT_INDEX_DIR = './vbge-index';

export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/** The URL with its password removed, for messages. */
export function redactUrl(location: string): string {
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return location.replace(/:[^:@/]*@/, ':***@');
  }
}
