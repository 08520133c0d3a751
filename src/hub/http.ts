/**
 * The two hub requests we need: HEAD on the resolve route for a file's metadata, and ranged GETs
 * of its content. Plain fetch keeps every header and byte range under our control.
 */
import { HubError, HubUnreachableError } from './errors.js';
import type { ResolvedHubOptions } from './options.js';

const USER_AGENT = 'visualized-bge/0.1 (node)';
const MAX_RELATIVE_REDIRECTS = 5;

/** What the hub says about one file at one revision. */
export interface RemoteFile {
  repo: string;
  file: string;
  revision: string;
  /** Where the bytes are: the resolve URL itself, or the CDN URL an LFS file redirects to. */
  url: string;
  commit: string;
  /** Normalised ETag: sha256 of the content for LFS files, git blob sha1 otherwise. */
  etag: string;
  size: number;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** The headers every request to the hub itself carries. */
export function hubHeaders(o: ResolvedHubOptions): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  return headers;
}

/** huggingface_hub's normalisation: drop a weak-validator prefix and the quotes. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

function parseSize(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Turns a refused request into an error that says what to do about it. */
export function statusError(res: Response, where: { repo: string; file: string; revision: string; endpoint: string }): HubError {
  const code = res.headers.get('x-error-code') ?? '';
  const hubMessage = res.headers.get('x-error-message');
  const name = `${where.repo}/${where.file}`;
  const details = { repo: where.repo, file: where.file, status: res.status };
  let message: string;
  if (code === 'GatedRepo' || (res.status === 403 && code === '')) {
    message = `${where.repo} is gated or forbidden (HTTP ${res.status}): accept its terms on the hub and set HF_TOKEN to a token that may read it`;
  } else if (code === 'RepoNotFound' || res.status === 401) {
    message = `repository ${where.repo} was not found on ${where.endpoint} (HTTP ${res.status}); if it is private, set HF_TOKEN`;
  } else if (code === 'RevisionNotFound') {
    message = `revision ${JSON.stringify(where.revision)} was not found in ${where.repo} (HTTP ${res.status})`;
  } else if (code === 'EntryNotFound' || res.status === 404) {
    message = `${name}: no such file in ${where.repo} at revision ${JSON.stringify(where.revision)} (HTTP ${res.status})`;
  } else {
    message = `${name}: the hub answered HTTP ${res.status} ${res.statusText}`.trimEnd();
  }
  if (hubMessage) message += ` (hub: ${hubMessage})`;
  return new HubError(message, details);
}

/**
 * HEAD on the resolve URL without following the LFS redirect, so that its X-Linked-* headers (the
 * LFS object's sha256 and size) stay visible. Relative redirects (renamed repos) are followed.
 */
export async function fetchMetadata(repo: string, file: string, revision: string, o: ResolvedHubOptions): Promise<RemoteFile> {
  const where = { repo, file, revision, endpoint: o.endpoint };
  let url = resolveUrl(o.endpoint, repo, revision, file);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await o.fetchImpl(url, {
        method: 'HEAD',
        headers: hubHeaders(o),
        redirect: 'manual',
        signal: AbortSignal.timeout(o.idleTimeoutMs),
      });
    } catch (err) {
      throw new HubUnreachableError(`${repo}/${file}: cannot reach ${o.endpoint} (${describe(err)})`, { repo, file, cause: err });
    }
    const location = res.headers.get('location');
    const redirected = res.status >= 300 && res.status < 400 && location !== null;
    if (redirected && location.startsWith('/') && !location.startsWith('//')) {
      if (hop >= MAX_RELATIVE_REDIRECTS) throw new HubError(`${repo}/${file}: too many redirects from ${o.endpoint}`, { repo, file });
      url = new URL(location, url).toString();
      continue;
    }
    if (!res.ok && !redirected) throw statusError(res, where);
    const commit = res.headers.get('x-repo-commit');
    const rawEtag = res.headers.get('x-linked-etag') ?? res.headers.get('etag');
    const size = parseSize(res.headers.get('x-linked-size')) ?? parseSize(res.headers.get('content-length'));
    if (commit === null || !/^[0-9a-f]{40}$/.test(commit) || rawEtag === null || size === undefined) {
      throw new HubError(
        `${repo}/${file}: ${o.endpoint} did not send the hub's file headers (X-Repo-Commit, ETag, size); is HF_ENDPOINT a Hugging Face hub or mirror?`,
        { repo, file, status: res.status },
      );
    }
    const etag = normalizeEtag(rawEtag);
    if (!/^[A-Za-z0-9._-]+$/.test(etag)) {
      throw new HubError(`${repo}/${file}: unusable ETag ${JSON.stringify(rawEtag)} from ${o.endpoint}`, { repo, file });
    }
    return { repo, file, revision, url: redirected ? new URL(location, url).toString() : url, commit, etag, size };
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
