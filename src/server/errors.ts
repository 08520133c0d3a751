/**
 * Errors as the HTTP API answers them: OpenAI's shape, `{"error": {"message", "type", "param",
 * "code"}}`, so that OpenAI clients surface our messages as they surface OpenAI's.
 */
import { InputError, LimitError, VbgeError } from '../errors.js';

export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'rate_limit_error' | 'server_error';

/** A failed request: status, OpenAI error fields, and headers such as Retry-After. */
export class HttpError extends VbgeError {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: { type?: OpenAiErrorType; param?: string | null; code?: string | null; details?: Record<string, unknown> } = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null } & Record<string, unknown>;
}

export function errorBody(err: HttpError): OpenAiErrorBody {
  const type = err.fields.type ?? (err.status >= 500 ? 'server_error' : 'invalid_request_error');
  return { error: { message: err.message, type, param: err.fields.param ?? null, code: err.fields.code ?? null, ...err.fields.details } };
}

/** What one bad input reports: its position, the message, and the limit when one was hit. */
export interface ItemError {
  index: number;
  message: string;
  limit?: { name: string; value: number; actual: number };
}

export function itemError(index: number, err: unknown): ItemError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof LimitError) return { index, message, limit: { name: err.limitName, value: err.limit, actual: err.actual } };
  return { index, message };
}

/** A 400 for the bad items of a request: the first named in `message`, all of them in `items`. */
export function badItemsError(field: string, items: readonly ItemError[]): HttpError {
  const first = items[0]!;
  const more = items.length > 1 ? ` (and ${items.length - 1} more bad item${items.length > 2 ? 's' : ''}, listed in "items")` : '';
  return new HttpError(400, `${first.message}${more}`, {
    param: `${field}[${first.index}]`,
    code: items.some((i) => i.limit) ? 'limit_exceeded' : 'invalid_input',
    details: { items },
  });
}

/** An input error outside any item list (a query, a parameter). */
export function inputHttpError(param: string, err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof InputError)
    return new HttpError(400, err.message, {
      param,
      code: err instanceof LimitError ? 'limit_exceeded' : 'invalid_input',
      ...(err instanceof LimitError ? { details: { limit: { name: err.limitName, value: err.limit, actual: err.actual } } } : {}),
    });
  throw err;
}
