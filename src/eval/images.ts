/** Checks, before any embedding, that a native layout's images are where the reader expects them. */
import { ConfigError } from '../errors.js';
import { isFile } from './files.js';
import type { CorpusEntry } from './task.js';

/**
 * Missing image files are left to the index (each becomes a counted reject), but a folder that
 * holds none of them is a wrong folder: that is one clear error instead of thousands of rejects.
 */
export function checkImages(corpus: readonly CorpusEntry[], folder: string): string[] {
  const files = corpus.map((e) => e.image).filter((i): i is string => typeof i === 'string');
  const missing = files.filter((f) => !isFile(f));
  if (files.length > 0 && missing.length === files.length)
    throw new ConfigError(`${folder}: none of the ${files.length} corpus images is there (e.g. ${missing[0]}); name the images folder with --images DIR`);
  return missing.length > 0 ? [`${missing.length} of ${files.length} corpus images are missing (e.g. ${missing[0]})`] : [];
}
