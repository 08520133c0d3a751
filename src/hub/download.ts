import { open, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RepoCache, validateFilePath, validateRepoId, validateRevision } from './cache.js';
import { fileMatches } from './checksum.js';
import { HubError, HubOfflineError, HubUnreachableError } from './errors.js';
import { describe, fetchMetadata, hubHeaders, statusError, type RemoteFile } from './http.js';
import { withFileLock } from './lock.js';
import { hubOptionsFromEnv, type HubOptions, type ResolvedHubOptions } from './options.js';
import { makeDirs } from '../util/fs.js';

/** A file ready in the cache. */
export interface FetchedFile {
  /** snapshots/{commit}/{file}: what callers open. */
  path: string;
  commit: string;
  size: number;
  /** True when nothing was downloaded. */
  cached: boolean;
}

/** A break in the transfer that resuming may cure (dropped connection, stall, 5xx). */
class TransientError extends Error {}

const RETRY_BASE_MS = 250;

/**
 * Downloads `file` of `repo` into the Hugging Face cache (or finds it there) and returns its
 * snapshot path. A partial `.incomplete` download is resumed with a Range request; the result is
 * checked against the hub's checksum, and a cached blob that fails that check is fetched again.
 */
export async function downloadFile(repo: string, file: string, opts: HubOptions = {}): Promise<string> {
  return (await fetchFile(repo, file, hubOptionsFromEnv(opts))).path;
}

export async function fetchFile(repo: string, file: string, o: ResolvedHubOptions, fetchCommand?: string): Promise<FetchedFile> {
  validateRepoId(repo);
  validateFilePath(file);
  validateRevision(o.revision);
  const cache = new RepoCache(o.cacheDir, repo);
  const command = fetchCommand ?? `vbge pull ${repo} ${file}`;
  if (o.offline) {
    const found = await findVerified(cache, file, o, command);
    if (found === undefined) throw new HubOfflineError([`${repo}/${file}`], command, cache.cacheDir);
    return found;
  }

  let remote: RemoteFile;
  try {
    remote = await fetchMetadata(repo, file, o.revision, o);
  } catch (err) {
    // Like huggingface_hub: with the hub unreachable, a cached copy of the revision still serves.
    if (err instanceof HubUnreachableError) {
      const found = await findVerified(cache, file, o, command);
      if (found !== undefined) return found;
    }
    throw err;
  }

  await cache.writeRef(o.revision, remote.commit);
  const blob = cache.blobPath(remote.etag);
  const cached = await withBlobLock(cache, remote.etag, async () => {
    const existing = await sizeOf(blob);
    if (existing !== undefined) {
      const good = o.verifyCached ? await fileMatches(blob, remote.etag, remote.size, existing) : existing === remote.size;
      if (good) return true;
      await rm(blob, { force: true }); // corrupt or truncated: fetch it again
    }
    await downloadBlob(remote, cache, o);
    return false;
  });
  const path = await cache.link(remote.commit, file, remote.etag);
  o.onFileDone?.({ repo, file, path, size: remote.size, cached });
  return { path, commit: remote.commit, size: remote.size, cached };
}

/** The cached copy of `file` at the wanted revision, its content checked against its blob name. */
export async function findVerified(
  cache: RepoCache,
  file: string,
  o: ResolvedHubOptions,
  fetchCommand: string,
): Promise<FetchedFile | undefined> {
  const found = await cache.find(o.revision, file);
  if (found === undefined) return undefined;
  const size = (await stat(found.path)).size;
  if (o.verifyCached && found.etag !== undefined && !(await fileMatches(found.path, found.etag, size, size))) {
    throw new HubError(
      `${cache.repo}/${file}: the cached copy ${found.path} is corrupt (its checksum is not ${found.etag}); run \`${fetchCommand}\` while online to fetch it again`,
      { repo: cache.repo, file },
    );
  }
  o.onFileDone?.({ repo: cache.repo, file, path: found.path, size, cached: true });
  return { path: found.path, commit: found.commit, size, cached: true };
}

function withBlobLock<T>(cache: RepoCache, etag: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(cache.lockPath(etag), fn);
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/**
 * Fills blobs/{etag}.incomplete, resuming after breaks, then verifies it and moves it into place.
 * A checksum mismatch discards the bytes and starts once more from zero before giving up.
 */
async function downloadBlob(remote: RemoteFile, cache: RepoCache, o: ResolvedHubOptions): Promise<void> {
  const name = `${remote.repo}/${remote.file}`;
  const partial = cache.incompletePath(remote.etag);
  makeDirs(dirname(partial));
  for (let pass = 1; ; pass++) {
    for (let breaks = 0; ; ) {
      let have = (await sizeOf(partial)) ?? 0;
      if (have > remote.size) {
        await truncate(partial, 0);
        have = 0;
      }
      if (have === remote.size) break;
      try {
        await getInto(remote, partial, have, o);
        break;
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        if (breaks >= o.retries) {
          throw new HubError(
            `${name}: download broken off at ${(await sizeOf(partial)) ?? 0} of ${remote.size} bytes (${err.message}); run the command again to resume`,
            { repo: remote.repo, file: remote.file, cause: err },
          );
        }
        breaks++;
        await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (breaks - 1)));
      }
    }
    if (await fileMatches(partial, remote.etag, remote.size, remote.size)) {
      await rename(partial, cache.blobPath(remote.etag));
      return;
    }
    await rm(partial, { force: true });
    if (pass >= 2) {
      throw new HubError(
        `${name}: downloaded twice and both copies fail the hub's checksum ${remote.etag}; the server or a proxy is altering the file`,
        { repo: remote.repo, file: remote.file },
      );
    }
  }
}

/** One GET from byte `start`, appended to `partial`; throws TransientError for breaks worth resuming. */
async function getInto(remote: RemoteFile, partial: string, start: number, o: ResolvedHubOptions): Promise<void> {
  const headers = hubHeaders(o);
  // The token is for the hub; a CDN on another origin gets a signed URL and must not see it.
  if (new URL(remote.url).origin !== new URL(o.endpoint).origin) delete headers.authorization;
  if (start > 0) headers.range = `bytes=${start}-`;
  const abort = new AbortController();
  let idle = setTimeout(() => abort.abort(), o.idleTimeoutMs);
  const touch = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => abort.abort(), o.idleTimeoutMs);
  };
  const label = `${remote.repo}/${remote.file}`;
  try {
    let res: Response;
    try {
      res = await o.fetchImpl(remote.url, { headers, redirect: 'follow', signal: abort.signal });
    } catch (err) {
      throw new TransientError(abort.signal.aborted ? `no answer for ${o.idleTimeoutMs} ms` : describe(err));
    }
    if (res.status === 416) {
      await res.body?.cancel();
      await truncate(partial, 0); // our partial file is not a prefix the server recognises
      throw new TransientError('the server refused the resume range');
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw new TransientError(`HTTP ${res.status}`);
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw statusError(res, { repo: remote.repo, file: remote.file, revision: remote.revision, endpoint: o.endpoint });
    }
    let offset = start;
    if (res.status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (range === null || Number(range[1]) !== start) {
        await res.body?.cancel();
        await truncate(partial, 0);
        throw new TransientError(`unexpected Content-Range ${JSON.stringify(res.headers.get('content-range'))}`);
      }
    } else {
      offset = 0; // the server ignored Range: the body is the whole file
    }
    if (res.body === null) throw new TransientError('empty response body');
    const handle = await open(partial, offset === 0 ? 'w' : 'a');
    try {
      o.onProgress?.({ file: label, received: offset, total: remote.size });
      for await (const chunk of readBody(res.body)) {
        touch();
        if (offset + chunk.byteLength > remote.size) {
          throw new HubError(`${label}: the server sent more than the ${remote.size} bytes the hub announced`, {
            repo: remote.repo,
            file: remote.file,
          });
        }
        await writeChunk(handle, chunk, partial, remote);
        offset += chunk.byteLength;
        o.onProgress?.({ file: label, received: offset, total: remote.size });
      }
    } catch (err) {
      if (err instanceof HubError) throw err;
      throw new TransientError(abort.signal.aborted ? `stalled for ${o.idleTimeoutMs} ms` : describe(err));
    } finally {
      await handle.close();
    }
    if (offset !== remote.size) throw new TransientError(`connection closed after ${offset} of ${remote.size} bytes`);
  } finally {
    clearTimeout(idle);
    abort.abort(); // frees the connection if we stopped reading early
  }
}

async function writeChunk(handle: FileHandle, chunk: Uint8Array, partial: string, remote: RemoteFile): Promise<void> {
  try {
    await handle.write(chunk);
  } catch (err) {
    throw new HubError(`${remote.repo}/${remote.file}: cannot write ${partial} (${describe(err)})`, {
      repo: remote.repo,
      file: remote.file,
      cause: err,
    });
  }
}

async function* readBody(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
