/**
 * Reading a POST /v1/embeddings body: OpenAI's request shape, plus items `{ text?, image? }` for
 * images and composed inputs. Shape errors name the field; item errors are collected per item.
 */
import { HttpError } from './errors.js';

/** An image as the request gave it: a data URI or (when enabled) an http(s) URL. */
export interface RequestItem {
  readonly text?: string;
  readonly image?: string;
}

export interface EmbeddingsRequest {
  readonly model: string;
  readonly items: readonly RequestItem[];
  readonly encodingFormat: 'float' | 'base64';
  /** Cut over-long texts instead of refusing them (an extension; OpenAI has no such field). */
  readonly truncate: boolean;
}

export interface EmbeddingsRequestLimits {
  readonly maxItemsPerRequest: number;
  /** The model's embedding length: `dimensions` must equal it when given. */
  readonly dim: number;
  /** Names `model` may take. */
  readonly modelNames: readonly string[];
}

const KNOWN_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user', 'truncate']);

function invalid(message: string, param: string | null, code = 'invalid_value'): HttpError {
  return new HttpError(400, message, { param, code });
}

export function parseEmbeddingsRequest(body: unknown, limits: EmbeddingsRequestLimits): EmbeddingsRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object with "input"', null);
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) throw invalid(`unknown field "${unknown[0]}" (known: ${[...KNOWN_FIELDS].join(', ')})`, unknown[0]!);

  const model = b['model'] ?? 'visualized-bge';
  if (typeof model !== 'string') throw invalid('"model" must be a string', 'model');
  if (!limits.modelNames.includes(model))
    throw new HttpError(404, `model "${model}" is not served here; use one of: ${limits.modelNames.join(', ')}`, { param: 'model', code: 'model_not_found', type: 'invalid_request_error' });

  const format = b['encoding_format'] ?? 'float';
  if (format !== 'float' && format !== 'base64') throw invalid(`"encoding_format" must be "float" or "base64"; got ${JSON.stringify(format)}`, 'encoding_format');

  const dimensions = b['dimensions'];
  if (dimensions !== undefined && dimensions !== limits.dim)
    throw invalid(`"dimensions" must be ${limits.dim}, this model's embedding length (embeddings are not shortened); got ${JSON.stringify(dimensions)}`, 'dimensions');

  const truncate = b['truncate'] ?? false;
  if (typeof truncate !== 'boolean') throw invalid('"truncate" must be true or false', 'truncate');
  if (b['user'] !== undefined && typeof b['user'] !== 'string') throw invalid('"user" must be a string', 'user');

  return { model, items: parseInput(b['input'], limits.maxItemsPerRequest), encodingFormat: format, truncate };
}

function parseInput(input: unknown, maxItems: number): RequestItem[] {
  if (input === undefined) throw invalid('"input" is required: a string, an array of strings, or an array of {"text", "image"} items', 'input', 'missing_field');
  if (typeof input === 'string') return [{ text: input }];
  if (!Array.isArray(input)) throw invalid('"input" must be a string, an array of strings, or an array of {"text", "image"} items', 'input');
  if (input.length === 0) throw invalid('"input" is empty', 'input');
  if (input.length > maxItems)
    throw new HttpError(413, `"input" has ${input.length} items, the limit is maxItemsPerRequest = ${maxItems}; split the request`, {
      param: 'input',
      code: 'limit_exceeded',
      details: { limit: { name: 'maxItemsPerRequest', value: maxItems, actual: input.length } },
    });
  return input.map((entry: unknown, i) => parseItem(entry, i));
}

function parseItem(entry: unknown, i: number): RequestItem {
  const param = `input[${i}]`;
  if (typeof entry === 'string') return { text: entry };
  if (typeof entry === 'number' || (Array.isArray(entry) && entry.every((e) => typeof e === 'number')))
    throw invalid(`${param}: token id arrays are not accepted; send the text`, param);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalid(`${param} must be a string or an object {"text"?, "image"?}`, param);
  const e = entry as Record<string, unknown>;
  const extra = Object.keys(e).find((k) => k !== 'text' && k !== 'image');
  if (extra !== undefined) throw invalid(`${param} has an unknown field "${extra}" (items take "text" and "image")`, `${param}.${extra}`);
  const text = e['text'];
  const image = e['image'];
  if (text !== undefined && typeof text !== 'string') throw invalid(`${param}.text must be a string`, `${param}.text`);
  if (image !== undefined && typeof image !== 'string') throw invalid(`${param}.image must be a string: a data URI (data:image/png;base64,…)`, `${param}.image`);
  if (text === undefined && image === undefined) throw invalid(`${param} has neither "text" nor "image"`, param);
  return { ...(text !== undefined ? { text } : {}), ...(image !== undefined ? { image } : {}) };
}
