/**
 * The huggingface_hub cache layout, shared with Python tools:
 *
 *   {cacheDir}/models--{org}--{name}/
 *     blobs/{etag}                    file contents, named by git-blob sha1 or LFS sha256
 *     blobs/{etag}.incomplete         a download in progress (resumable)
 *     snapshots/{commit}/{file}       relative symlink to ../../blobs/{etag}
 *     refs/{revision}                 the commit a branch or tag pointed to at the last download
 *   {cacheDir}/.locks/models--{org}--{name}/   lock files
 */
import { constants as fsConstants } from 'node:fs';
import { copyFile, lstat, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';
import { makeDirs } from '../util/fs.js';

const REPO_ID = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** A sibling name no other writer (process or concurrent call) picks. */
function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/** Rejects names the hub would reject, and anything that could escape the cache folder. */
export function validateRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('--') || repo.includes('..') || /(^|\/)[.-]|[.-]($|\/)/.test(repo)) {
    throw new InputError(
      `repo ${JSON.stringify(repo)}`,
      'is not a hub repository id (expected "org/name" of letters, digits, "_", "-", ".")',
    );
  }
}

function validateRelativePath(what: string, value: string): void {
  const parts = value.split('/');
  if (value === '' || value.includes('\\') || value.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new InputError(`${what} ${JSON.stringify(value)}`, 'must be a relative path inside the repository, without "." or ".." parts');
  }
}

export function validateFilePath(file: string): void {
  validateRelativePath('file', file);
}

export function validateRevision(revision: string): void {
  validateRelativePath('revision', revision);
}

export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

/** Joins `parts` under `root` and makes sure the result stays inside it. */
function inside(root: string, ...parts: string[]): string {
  const full = resolve(root, ...parts);
  if (full !== root && !full.startsWith(root + sep)) {
    throw new InputError(parts.join('/'), `resolves outside the cache folder ${root}`);
  }
  return full;
}

export interface CachedFile {
  path: string;
  commit: string;
  /** The blob's name (its checksum) when the snapshot entry is a link into blobs/. */
  etag: string | undefined;
}

export class RepoCache {
  readonly root: string;
  readonly locksDir: string;

  constructor(
    readonly cacheDir: string,
    readonly repo: string,
  ) {
    validateRepoId(repo);
    const base = resolve(cacheDir);
    this.root = join(base, repoFolderName(repo));
    this.locksDir = join(base, '.locks', repoFolderName(repo));
  }

  blobPath(etag: string): string {
    return inside(this.root, 'blobs', etag);
  }

  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.incomplete`;
  }

  lockPath(etag: string): string {
    return inside(this.locksDir, `${etag}.vbge.lock`);
  }

  snapshotPath(commit: string, file: string): string {
    return inside(this.root, 'snapshots', commit, ...file.split('/'));
  }

  snapshotDir(commit: string): string {
    return inside(this.root, 'snapshots', commit);
  }

  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(inside(this.root, 'refs', ...revision.split('/')), 'utf8')).trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = inside(this.root, 'refs', ...revision.split('/'));
    makeDirs(dirname(path));
    const tmp = tempName(path);
    await writeFile(tmp, commit);
    await rename(tmp, path);
  }

  /** The commit a revision means without asking the hub: itself if it is a hash, else refs/. */
  async localCommit(revision: string): Promise<string | undefined> {
    return isCommitHash(revision) ? revision : this.readRef(revision);
  }

  /** The snapshot entry for `file` at `revision`, if it exists and leads to an existing file. */
  async find(revision: string, file: string): Promise<CachedFile | undefined> {
    const commit = await this.localCommit(revision);
    if (commit === undefined) return undefined;
    const path = this.snapshotPath(commit, file);
    try {
      if (!(await stat(path)).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return { path, commit, etag: await this.linkedEtag(path) };
  }

  private async linkedEtag(path: string): Promise<string | undefined> {
    try {
      if (!(await lstat(path)).isSymbolicLink()) return undefined;
      const target = resolve(dirname(path), await readlink(path));
      const blobs = join(this.root, 'blobs') + sep;
      return target.startsWith(blobs) ? target.slice(blobs.length) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Points snapshots/{commit}/{file} at blobs/{etag} (relative link; a copy where links are refused). */
  async link(commit: string, file: string, etag: string): Promise<string> {
    const path = this.snapshotPath(commit, file);
    const blob = this.blobPath(etag);
    makeDirs(dirname(path));
    const tmp = tempName(path);
    await rm(tmp, { force: true });
    try {
      await symlink(relative(dirname(path), blob), tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      await copyFile(blob, tmp, fsConstants.COPYFILE_FICLONE); // e.g. Windows without developer mode
    }
    await rename(tmp, path);
    return path;
  }
}
