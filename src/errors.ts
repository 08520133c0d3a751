/**
 * Typed errors. Each names the input it is about and, where a limit was hit, the limit, so
 * that a user can fix the input without reading our code.
 */

/** Base class: every error this library throws on purpose. */
export class VbgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A user input (text, image, request) that cannot be embedded as given. */
export class InputError extends VbgeError {
  constructor(
    readonly input: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${input}: ${message}`, options);
  }
}

/** An input that exceeds a documented limit (tokens, pixels, bytes). */
export class LimitError extends InputError {
  constructor(
    input: string,
    readonly limitName: string,
    readonly actual: number,
    readonly limit: number,
    detail?: string,
  ) {
    super(input, `${limitName} is ${actual}, the limit is ${limit}${detail ? ` (${detail})` : ''}`);
  }
}

/** A weights file or model folder that is missing, truncated, corrupt or of the wrong kind. */
export class CheckpointError extends VbgeError {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** A model configuration that is inconsistent or unsupported. */
export class ConfigError extends VbgeError {}
