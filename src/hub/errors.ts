import { VbgeError } from '../errors.js';

/**
 * A file that could not be fetched from the Hugging Face hub or found in its cache. `repo` and
 * `file` name what was asked for; `status` is the HTTP status when the hub answered with one.
 */
export class HubError extends VbgeError {
  readonly repo: string | undefined;
  readonly file: string | undefined;
  readonly status: number | undefined;

  constructor(
    message: string,
    details: { repo?: string; file?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.repo = details.repo;
    this.file = details.file;
    this.status = details.status;
  }
}

/** Offline (or downloads not allowed) and some files are not in the cache. */
export class HubOfflineError extends HubError {
  constructor(
    readonly missing: readonly string[],
    readonly fetchCommand: string,
    cacheDir: string,
  ) {
    super(
      `missing from the Hugging Face cache ${cacheDir} and downloads are off: ${missing.join(', ')}; ` +
        `run \`${fetchCommand}\` while online (with HF_HUB_OFFLINE unset)`,
    );
  }
}

/** The hub could not be reached at all (DNS, refused connection, timeout): the cache may still serve. */
export class HubUnreachableError extends HubError {}
