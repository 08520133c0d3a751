/**
 * POST /v1/search and GET /v1/items/:id/image over the configured Index. Text and image queries
 * are embedded through the server's queue (same limits, same bits as the library), then searched
 * by vector; `{ id }` queries ("more like this") go to the index as they are. Thumbnails are made
 * only from the image files of indexed items: the id is looked up, never used as a path.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { InputError } from '../errors.js';
import { hitJson } from '../index/hit-json.js';
import type { SearchHit, SearchOptions } from '../index/types.js';
import { LIMITS } from '../limits.js';
import type { RequestContext } from './context.js';
import { resolveImage } from './request-images.js';
import { HttpError, inputHttpError } from './errors.js';

interface SearchRequest {
  query: { text?: string; image?: string } | { id: string };
  options: SearchOptions;
}

const SEARCH_FIELDS = new Set(['query', 'k', 'offset', 'where', 'ann', 'exclude']);

function invalid(message: string, param: string): HttpError {
  return new HttpError(400, message, { param, code: 'invalid_value' });
}

export function parseSearchRequest(body: unknown, maxResults: number): SearchRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('the request body must be a JSON object with "query"', 'body');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !SEARCH_FIELDS.has(k));
  if (unknown !== undefined) throw invalid(`unknown field "${unknown}" (known: ${[...SEARCH_FIELDS].join(', ')})`, unknown);
  const q = b['query'];
  if (q === null || typeof q !== 'object' || Array.isArray(q)) throw invalid('"query" must be {"text"?, "image"?} or {"id"}', 'query');
  const query = q as Record<string, unknown>;
  let parsed: SearchRequest['query'];
  if ('id' in query) {
    if (typeof query['id'] !== 'string' || Object.keys(query).length !== 1) throw invalid('"query.id" must be a string, alone in the query', 'query.id');
    parsed = { id: query['id'] };
  } else {
    const extra = Object.keys(query).find((k) => k !== 'text' && k !== 'image');
    if (extra !== undefined) throw invalid(`"query" has an unknown field "${extra}" (text, image or id)`, `query.${extra}`);
    if (query['text'] !== undefined && typeof query['text'] !== 'string') throw invalid('"query.text" must be a string', 'query.text');
    if (query['image'] !== undefined && typeof query['image'] !== 'string') throw invalid('"query.image" must be a data URI string', 'query.image');
    if (query['text'] === undefined && query['image'] === undefined) throw invalid('"query" needs "text", "image" or both, or "id"', 'query');
    parsed = { ...(query['text'] !== undefined ? { text: query['text'] as string } : {}), ...(query['image'] !== undefined ? { image: query['image'] as string } : {}) };
  }
  const k = b['k'] ?? 10;
  const offset = b['offset'] ?? 0;
  if (!Number.isInteger(k) || (k as number) < 1) throw invalid('"k" must be a positive integer', 'k');
  if (!Number.isInteger(offset) || (offset as number) < 0) throw invalid('"offset" must be a non-negative integer', 'offset');
  if ((k as number) + (offset as number) > maxResults)
    throw new HttpError(400, `"k" + "offset" is ${(k as number) + (offset as number)}, the limit is maxSearchResults = ${maxResults}`, {
      param: 'k',
      code: 'limit_exceeded',
      details: { limit: { name: 'maxSearchResults', value: maxResults, actual: (k as number) + (offset as number) } },
    });
  const where = b['where'];
  if (where !== undefined && typeof where !== 'string') throw invalid('"where" must be a filter expression string', 'where');
  const ann = b['ann'];
  if (ann !== undefined && typeof ann !== 'boolean') throw invalid('"ann" must be true or false', 'ann');
  const exclude = b['exclude'];
  if (exclude !== undefined && !(Array.isArray(exclude) && exclude.every((e) => typeof e === 'string'))) throw invalid('"exclude" must be an array of ids', 'exclude');
  return {
    query: parsed,
    options: {
      k: k as number,
      offset: offset as number,
      ...(where !== undefined ? { where } : {}),
      ...(ann !== undefined ? { ann } : {}),
      ...(exclude !== undefined ? { exclude: exclude as string[] } : {}),
    },
  };
}

/** Longest side of a thumbnail, in pixels. */
const THUMBNAIL_SIDE = 384;

export function registerSearchRoutes(app: FastifyInstance, ctx: RequestContext): void {
  const noIndex = (): HttpError =>
    new HttpError(404, 'this server has no index; start it with vbge serve --index DIR or --store URL', { type: 'not_found_error', code: 'no_index' });

  app.post('/v1/search', { onRequest: ctx.refuseWhenFull }, async (request, reply) => {
    const index = ctx.index;
    if (!index) throw noIndex();
    const { query, options } = parseSearchRequest(request.body, ctx.limits.maxSearchResults);
    let hits: SearchHit[];
    if ('id' in query) {
      if (!(await index.get(query.id))) throw new HttpError(404, `no indexed item has the id "${query.id}"`, { type: 'not_found_error', param: 'query.id', code: 'item_not_found' });
      hits = await index.search(query, options).catch((err: unknown) => {
        throw err instanceof InputError ? inputHttpError('where', err) : err;
      });
    } else {
      ctx.noteItems(request, 1);
      const vector = await ctx.runAdmitted(reply, 1, (signal) => embedQuery(ctx, query, signal));
      hits = await index.searchVector(vector, options).catch((err: unknown) => {
        throw err instanceof InputError ? inputHttpError('where', err) : err;
      });
    }
    return { data: hits.map(hitJson) };
  });

  app.get<{ Params: { id: string } }>('/v1/items/:id/image', async (request, reply) => {
    const index = ctx.index;
    if (!index) throw noIndex();
    const id = request.params.id;
    const item = await index.get(id);
    if (!item) throw new HttpError(404, `no indexed item has the id "${id}"`, { type: 'not_found_error', param: 'id', code: 'item_not_found' });
    if (item.path === undefined) throw new HttpError(404, `item "${id}" has no image file`, { type: 'not_found_error', param: 'id', code: 'no_image' });
    let bytes: Buffer;
    try {
      bytes = await readFile(item.path);
    } catch {
      throw new HttpError(404, `the image file of item "${id}" is no longer readable`, { type: 'not_found_error', param: 'id', code: 'image_missing' });
    }
    const thumbnail = await sharp(bytes, { limitInputPixels: LIMITS.maxImagePixels, failOn: 'none' })
      .rotate()
      .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer()
      .catch(() => {
        throw new HttpError(422, `the image file of item "${id}" cannot be decoded`, { param: 'id', code: 'image_undecodable' });
      });
    return reply.header('content-type', 'image/webp').header('cache-control', 'private, max-age=300').send(thumbnail);
  });
}

/** A text/image query as one queued input, embedded exactly as /v1/embeddings would. */
async function embedQuery(ctx: RequestContext, query: { text?: string; image?: string }, signal: AbortSignal): Promise<Float32Array> {
  let image: Uint8Array | undefined;
  try {
    image = query.image === undefined ? undefined : await resolveImage(ctx, query.image, 'query.image', signal);
  } catch (err) {
    throw inputHttpError('query.image', err);
  }
  const [result] = await ctx.queue.embed([{ ...(query.text !== undefined ? { text: query.text } : {}), ...(image ? { image } : {}), name: 'query' }], { signal });
  if (!result) throw new Error('the queue returned no result for the query');
  if (!result.ok) throw inputHttpError('query', result.error);
  return result.embedding;
}
