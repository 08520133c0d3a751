/** What the routes share: the encoder behind its queue, limits, metrics, the optional index. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Encoder } from '../encoder.js';
import type { IndexStats, Metadata, Query, SearchHit, SearchOptions } from '../index/types.js';
import { LIMITS } from '../limits.js';
import type { EmbedQueue } from './embed-queue.js';
import { HttpError } from './errors.js';
import type { ImageUrlFetcher } from './image-url.js';
import type { ServerMetrics } from './metrics.js';

/** The part of the Index the server uses. */
export interface SearchableIndex {
  search(query: Query, options?: SearchOptions): Promise<SearchHit[]>;
  searchVector(vector: Float32Array, options?: SearchOptions): Promise<SearchHit[]>;
  get(id: string): Promise<{ id: string; path?: string; text?: string; metadata: Metadata } | undefined>;
  stats(): Promise<IndexStats>;
  ping(): Promise<void>;
}

/** The server's limits; defaults from LIMITS, each one a `vbge serve` option. */
export interface ServerLimits {
  readonly maxRequestBodyBytes: number;
  readonly maxItemsPerRequest: number;
  readonly maxQueuedItems: number;
  /** Most inputs per encoder call when requests are coalesced. */
  readonly maxBatchItems: number;
  readonly requestTimeoutMs: number;
  readonly maxSearchResults: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxRequestBodyBytes: LIMITS.maxRequestBodyBytes,
  maxItemsPerRequest: LIMITS.maxItemsPerRequest,
  maxQueuedItems: LIMITS.maxQueuedItems,
  maxBatchItems: 64,
  requestTimeoutMs: LIMITS.requestTimeoutSeconds * 1000,
  maxSearchResults: LIMITS.maxSearchResults,
};

export interface RequestContext {
  readonly encoder: Encoder;
  readonly queue: EmbedQueue;
  readonly metrics: ServerMetrics;
  readonly limits: ServerLimits;
  readonly modelNames: readonly string[];
  readonly imageUrls?: ImageUrlFetcher;
  readonly index?: SearchableIndex;
  /** Records how many inputs a request carried (for the request log). */
  noteItems(request: FastifyRequest, count: number): void;
  /**
   * Runs `work` with room for `count` inputs admitted (429 when there is none) and a signal that
   * aborts at the request deadline (504) or when the client goes away.
   */
  runAdmitted<T>(reply: FastifyReply, count: number, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * An onRequest hook: when the queue is already full, the request is refused (429) before its
   * body is read, so an overloaded server spends nothing on what it cannot take.
   */
  refuseWhenFull(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/** The deadline and disconnect handling of `runAdmitted`. */
export async function withDeadline<T>(reply: FastifyReply, timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new HttpError(504, `the request took longer than the limit requestTimeoutSeconds = ${timeoutMs / 1000} s and was abandoned`, {
          code: 'timeout',
          details: { limit: { name: 'requestTimeoutSeconds', value: timeoutMs / 1000 } },
        }),
      ),
    timeoutMs,
  );
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new HttpError(499, 'the client closed the connection'));
  };
  reply.raw.once('close', onClose);
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  aborted.catch(() => undefined);
  try {
    const running = work(controller.signal);
    running.catch(() => undefined); // a request abandoned at its deadline must not leave an unhandled rejection
    return await Promise.race([running, aborted]);
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
  }
}
