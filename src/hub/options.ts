import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Progress of one file's download; `received` counts bytes already on disk from an earlier try. */
export interface HubProgress {
  file: string;
  received: number;
  total: number;
}

/** One file is ready in the cache: freshly downloaded, or found there and verified. */
export interface HubFileDone {
  repo: string;
  file: string;
  path: string;
  size: number;
  cached: boolean;
}

export interface HubOptions {
  /** Hub base URL; default `HF_ENDPOINT` or https://huggingface.co. Mirrors work the same way. */
  endpoint?: string;
  /** Sent as `Authorization: Bearer`; default `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, or the token file `huggingface-cli login` writes. */
  token?: string;
  /** The hub cache root (the folder holding `models--*`); default `HF_HUB_CACHE` or `$HF_HOME/hub`. */
  cacheDir?: string;
  /** Cache only, no HTTP; default `HF_HUB_OFFLINE` truthy. */
  offline?: boolean;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  onProgress?: (p: HubProgress) => void;
  onFileDone?: (f: HubFileDone) => void;
  fetchImpl?: typeof fetch;
  /** How many times a download broken off midway is resumed within one call (default 3). */
  retries?: number;
  /** A request that sends nothing for this long is aborted (ms, default 60 000). */
  idleTimeoutMs?: number;
  /** Re-hash files already in the cache before trusting them (default true). */
  verifyCached?: boolean;
}

export interface ResolvedHubOptions {
  endpoint: string;
  token: string | undefined;
  cacheDir: string;
  offline: boolean;
  revision: string;
  onProgress: ((p: HubProgress) => void) | undefined;
  onFileDone: ((f: HubFileDone) => void) | undefined;
  fetchImpl: typeof fetch;
  retries: number;
  idleTimeoutMs: number;
  verifyCached: boolean;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
const DEFAULT_RETRIES = 3;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

type Env = Record<string, string | undefined>;

/** huggingface_hub's reading of boolean environment variables. */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

/** `$HF_HOME`, defaulting like huggingface_hub to `$XDG_CACHE_HOME/huggingface` or `~/.cache/huggingface`. */
export function hfHome(env: Env = process.env): string {
  return (
    nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface')
  );
}

export function defaultCacheDir(env: Env = process.env): string {
  return nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome(env), 'hub');
}

function tokenFromEnv(env: Env): string | undefined {
  const direct = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (direct !== undefined) return direct;
  const file = nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome(env), 'token');
  try {
    return nonEmpty(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // no stored login: anonymous access
  }
}

/**
 * Fills every option: explicit values win, then the environment variables huggingface_hub reads,
 * then its defaults, so that Python tools and we agree on where the cache is.
 */
export function hubOptionsFromEnv(overrides: HubOptions = {}, env: Env = process.env): ResolvedHubOptions {
  const endpoint = (overrides.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  return {
    endpoint,
    token: overrides.token ?? tokenFromEnv(env),
    cacheDir: overrides.cacheDir ?? defaultCacheDir(env),
    offline: overrides.offline ?? envFlag(env.HF_HUB_OFFLINE),
    revision: overrides.revision ?? DEFAULT_REVISION,
    onProgress: overrides.onProgress,
    onFileDone: overrides.onFileDone,
    fetchImpl: overrides.fetchImpl ?? fetch,
    retries: overrides.retries ?? DEFAULT_RETRIES,
    idleTimeoutMs: overrides.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    verifyCached: overrides.verifyCached ?? true,
  };
}
