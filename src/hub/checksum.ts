import { createHash, type Hash } from 'node:crypto';
import { hashFileInto } from '../util/file-hash.js';

/**
 * What the hub's ETag lets us check. LFS files are named by the sha256 of their content
 * (X-Linked-Etag); regular git files by their git blob id, sha1("blob <size>\0" + content).
 * A mirror may send some other ETag: then only the size can be checked.
 */
export type ChecksumKind = 'sha256' | 'git-sha1' | 'none';

export function checksumKind(etag: string): ChecksumKind {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256';
  if (/^[0-9a-f]{40}$/.test(etag)) return 'git-sha1';
  return 'none';
}

/** An incremental hasher for one expected checksum; the git-blob header needs the final size up front. */
export class ContentHasher {
  private readonly hash: Hash | undefined;

  constructor(
    readonly kind: ChecksumKind,
    size: number,
  ) {
    if (kind === 'sha256') this.hash = createHash('sha256');
    else if (kind === 'git-sha1') this.hash = createHash('sha1').update(`blob ${size}\0`);
  }

  update(chunk: Uint8Array): void {
    this.hash?.update(chunk);
  }

  digest(): string | undefined {
    return this.hash?.digest('hex');
  }
}

/** True when the file at `path` has `size` bytes whose checksum is `etag` (size only for other ETags). */
export async function fileMatches(path: string, etag: string, size: number, actualSize: number): Promise<boolean> {
  if (actualSize !== size) return false;
  const hasher = new ContentHasher(checksumKind(etag), size);
  await hashFileInto(path, hasher);
  const digest = hasher.digest();
  return digest === undefined || digest === etag;
}
