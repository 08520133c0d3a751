/**
 * The HTTP server: routes, the API key, errors in OpenAI's shape, metrics and one structured log
 * line per request. `createServer` builds it around a loaded Encoder (and optionally an Index);
 * the caller listens and closes (see `cli/serve.ts`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Encoder } from '../encoder.js';
import { InputError } from '../errors.js';
import { DEFAULT_SERVER_LIMITS, type RequestContext, type SearchableIndex, type ServerLimits, withDeadline } from './context.js';
import { EmbedQueue } from './embed-queue.js';
import { registerEmbeddingsRoute } from './embeddings-route.js';
import { HttpError, errorBody } from './errors.js';
import { ImageUrlFetcher, type ImageUrlOptions } from './image-url.js';
import { createMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { registerSearchRoutes } from './search-routes.js';
import { registerWebPage } from './web-page.js';

export interface ServerOptions {
  readonly encoder: Encoder;
  /** The names `model` may take in /v1/embeddings (see `modelNames`). */
  readonly modelNames: readonly string[];
  readonly index?: SearchableIndex;
  /** Requests to /v1/* must carry `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Enables image URLs (off by default), with these guards. */
  readonly imageUrls?: ImageUrlOptions;
  readonly limits?: Partial<ServerLimits>;
  /** Where the JSON request log goes (default stdout); false for none. */
  readonly log?: Writable | false;
}

export interface VbgeServer {
  readonly app: FastifyInstance;
  readonly queue: EmbedQueue;
  /** Every route served, as "METHOD /path" (HEAD routes left out). */
  readonly routes: readonly string[];
}

/** `visualized-bge`, the published model's name, and the checkpoint's file name with and without `.pth`. */
export function modelNames(source: { model?: string; weights?: string }): string[] {
  const names = ['visualized-bge'];
  if (source.model) names.push(source.model);
  if (source.weights) {
    const file = source.weights.split(/[\\/]/).pop() ?? source.weights;
    names.push(file, file.replace(/\.pth$/i, ''));
  }
  return [...new Set(names)];
}

export async function createServer(options: ServerOptions): Promise<VbgeServer> {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  let queueDepth = (): number => 0;
  const metrics = createMetrics(() => queueDepth());
  const queue = new EmbedQueue(options.encoder, {
    maxQueuedItems: limits.maxQueuedItems,
    maxBatchItems: limits.maxBatchItems,
    onBatch: (items, seconds) => {
      metrics.batchSize.observe(items);
      metrics.batchSeconds.observe(seconds);
    },
  });
  queueDepth = () => queue.depth;

  const app = Fastify({
    bodyLimit: limits.maxRequestBodyBytes,
    // Node's own bound on receiving a request (slow senders); the handler's deadline is ours.
    requestTimeout: limits.requestTimeoutMs,
    // One line per request, written by our onResponse hook (Fastify's own two lines off).
    logController: new LogController({ disableRequestLogging: true }),
    logger: options.log === false ? false : { level: 'info', stream: options.log ?? process.stdout, base: { service: 'vbge' } },
  });

  // JSON only: a text/plain body is a client mistake worth a 415, not a string to misread.
  app.removeContentTypeParser('text/plain');

  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });

  const itemsOf = new WeakMap<FastifyRequest, number>();
  const ctx: RequestContext = {
    encoder: options.encoder,
    queue,
    metrics,
    limits,
    modelNames: options.modelNames,
    imageUrls: options.imageUrls ? new ImageUrlFetcher(options.imageUrls) : undefined,
    index: options.index,
    noteItems: (request, count) => itemsOf.set(request, count),
    refuseWhenFull: async () => queue.checkRoom(1),
    runAdmitted: async (reply, count, work) => {
      const release = queue.admit(count);
      try {
        return await withDeadline(reply, limits.requestTimeoutMs, work);
      } finally {
        release();
      }
    },
  };

  if (options.apiKey !== undefined) app.addHook('onRequest', apiKeyCheck(options.apiKey));

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({ route, method: request.method, status: String(status) });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, route, url: request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url, status, ms: Math.round(reply.elapsedTime * 10) / 10, items: itemsOf.get(request), remote: request.ip },
      'request',
    );
  });

  app.setErrorHandler(async (err: FastifyError | Error, request, reply) => {
    const http = toHttpError(err, limits);
    if (http.status >= 500 && http.status !== 504) request.log.error({ err }, 'request failed');
    for (const limit of rejectedLimits(http)) metrics.rejections.inc({ limit });
    for (const [name, value] of Object.entries(http.headers)) void reply.header(name, value);
    return reply.status(http.status).send(errorBody(http));
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send(errorBody(new HttpError(404, `no route ${request.method} ${request.url.split('?')[0]}; see GET /docs`, { type: 'not_found_error', code: 'not_found' }))),
  );

  registerEmbeddingsRoute(app, ctx);
  registerSearchRoutes(app, ctx);
  registerWebPage(app);

  app.get('/v1/models', async () => ({
    object: 'list',
    data: options.modelNames.map((id) => ({ id, object: 'model', created: 0, owned_by: 'visualized-bge' })),
  }));

  app.get('/health', async (_request, reply) => {
    const model = { dim: options.encoder.dim, names: options.modelNames };
    if (!options.index) return { status: 'ok', model };
    try {
      // A store that hangs must not hang the health check (load balancers wait on it).
      const stats = await withinMs(HEALTH_TIMEOUT_MS, async () => {
        await options.index!.ping();
        return options.index!.stats();
      });
      return { status: 'ok', model, index: { items: stats.items, store: stats.store, location: stats.location } };
    } catch (err) {
      return reply.status(503).send({ status: 'unavailable', model, index: { error: err instanceof Error ? err.message : String(err) } });
    }
  });

  app.get('/metrics', async (_request, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));

  const doc = openApiDocument({ dim: options.encoder.dim, modelNames: options.modelNames, limits, imageUrls: ctx.imageUrls !== undefined, apiKey: options.apiKey !== undefined });
  app.get('/docs', async () => doc);

  await app.ready();
  return { app, queue, routes };
}

/** Longest the health check waits for the store. */
const HEALTH_TIMEOUT_MS = 5000;

async function withinMs<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${ms / 1000} s`)), ms);
  });
  const running = work();
  running.catch(() => undefined); // a late failure after the timeout is not unhandled
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bearer check for /v1/*; the page, health, metrics and docs stay open. Constant-time comparison. */
function apiKeyCheck(apiKey: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = createHash('sha256').update(apiKey).digest();
  return async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = createHash('sha256').update(match?.[1]?.trim() ?? '').digest();
    if (match && timingSafeEqual(given, expected)) return;
    const message = match ? 'the API key is wrong' : 'this server needs an API key: send Authorization: Bearer <key>';
    await reply
      .status(401)
      .header('www-authenticate', 'Bearer')
      .send(errorBody(new HttpError(401, message, { type: 'authentication_error', code: 'invalid_api_key' })));
  };
}

/** Any error a route or Fastify raised, as the HTTP error the client gets. */
function toHttpError(err: FastifyError | Error, limits: ServerLimits): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof InputError) return new HttpError(400, err.message, { code: 'invalid_input' });
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HttpError(413, `the request body is over the limit maxRequestBodyBytes = ${limits.maxRequestBodyBytes} bytes`, {
      code: 'limit_exceeded',
      details: { limit: { name: 'maxRequestBodyBytes', value: limits.maxRequestBodyBytes } },
    });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(415, 'send the body as application/json', { code: 'unsupported_media_type' });
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new HttpError(400, 'the JSON body is empty', { code: 'invalid_json' });
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return new HttpError(400, `the body is not valid JSON: ${err.message}`, { code: 'invalid_json' });
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new HttpError(status, err.message, { code: code ?? null });
  return new HttpError(500, 'internal error (logged on the server)', { type: 'server_error', code: 'internal_error' });
}

/** Which limits or checks a refusal counts against, for vbge_rejections_total. */
function rejectedLimits(err: HttpError): string[] {
  const details = err.fields.details ?? {};
  const items = details['items'];
  if (Array.isArray(items)) return items.map((i: { limit?: { name: string } }) => i.limit?.name ?? 'invalid_input');
  const limit = details['limit'] as { name?: string } | undefined;
  if (limit?.name) return [limit.name];
  if (err.fields.code === 'queue_full') return ['maxQueuedItems'];
  if (err.status === 401) return ['api_key'];
  return [];
}
