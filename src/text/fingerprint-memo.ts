/**
 * The tokenizer files' fingerprint, remembered beside the description cache by each file's size
 * and mtime. Once bge-m3's description is cached, reading and hashing its 8 MB tokenizer.json
 * (50–60 ms on this project's machine) was most of what a load spent on the tokenizer, on the
 * load's critical path. A file whose size or mtime changed, or that appeared or went, is read and
 * hashed again — the rule the checkpoint's hash follows (runtime/graph-cache.ts). Best effort: a
 * memo that cannot be read or written costs the hash, never the load.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs, writeAtomically } from '../util/fs.js';

/** Each file's size and mtime, null where it is absent, in the order the fingerprint hashes them. */
export type FileStamps = readonly ({ readonly size: number; readonly mtimeMs: number } | null)[];

/**
 * Stamps of `names` in `dir`, taken before the files are read: a file changed after its stamp is
 * stamped anew next time. Undefined when one cannot be stat-ed (the caller reads and reports).
 */
export function stampFiles(dir: string, names: readonly string[]): FileStamps | undefined {
  try {
    return names.map((name) => {
      try {
        const st = statSync(join(dir, name));
        return { size: st.size, mtimeMs: st.mtimeMs };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    });
  } catch {
    return undefined;
  }
}

/** The fingerprint remembered for `dir` under these stamps, or undefined. */
export function rememberedFingerprint(cacheDir: string, dir: string, stamps: FileStamps): string | undefined {
  try {
    const saved = JSON.parse(readFileSync(memoPath(cacheDir, realpathSync(dir)), 'utf8')) as { stamps?: unknown; fingerprint?: unknown };
    const fingerprint = saved.fingerprint;
    if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
    return JSON.stringify(saved.stamps) === JSON.stringify(stamps) ? fingerprint : undefined;
  } catch {
    return undefined;
  }
}

export function rememberFingerprint(cacheDir: string, dir: string, stamps: FileStamps, fingerprint: string): void {
  try {
    const real = realpathSync(dir);
    makeDirs(cacheDir);
    writeAtomically(memoPath(cacheDir, real), JSON.stringify({ dir: real, stamps, fingerprint }));
  } catch {
    // The next load hashes the files again.
  }
}

/** The memo of the folder at real path `realDir`. */
function memoPath(cacheDir: string, realDir: string): string {
  return join(cacheDir, `${createHash('sha256').update(realDir).digest('hex').slice(0, 32)}.files.json`);
}
