/**
 * Request coalescing for the encoder: concurrent requests wait in one bounded queue, and each
 * encoder call takes every waiting request (up to a batch bound) as one list, so the encoder's
 * batches fill across requests. Each request gets back exactly its own rows; the encoder's batch
 * invariance makes them the same bits as an unbatched call.
 *
 * Admission is counted in inputs, from a request's arrival until its answer (fetching images,
 * waiting, embedding), so memory stays bounded; beyond the bound a request is refused at once with
 * a Retry-After estimate instead of waiting without end.
 */
import type { EncodeInput, EncodeOptions, EncodeResult } from '../encoder.js';
import { HttpError } from './errors.js';

/** The part of the Encoder the queue needs. */
export interface SettledEncoder {
  encodeSettled(inputs: readonly EncodeInput[], options?: EncodeOptions): Promise<EncodeResult[]>;
}

export interface EmbedQueueOptions {
  /** Most inputs admitted at once; beyond it, `admit` refuses (429). */
  readonly maxQueuedItems: number;
  /** Most inputs per encoder call (a single larger request still goes alone, in one call). */
  readonly maxBatchItems: number;
  /** Called after each encoder call with its input count and duration. */
  readonly onBatch?: (items: number, seconds: number) => void;
}

interface Job {
  readonly inputs: readonly EncodeInput[];
  readonly truncate: boolean;
  readonly signal?: AbortSignal;
  readonly resolve: (results: EncodeResult[]) => void;
  readonly reject: (err: unknown) => void;
}

/** Seconds per input before the first batch has been timed. */
const INITIAL_SECONDS_PER_ITEM = 0.05;

export class EmbedQueue {
  private admitted = 0;
  private readonly waiting: Job[] = [];
  private running = false;
  private secondsPerItem = INITIAL_SECONDS_PER_ITEM;

  constructor(
    private readonly encoder: SettledEncoder,
    private readonly options: EmbedQueueOptions,
  ) {}

  /** Inputs admitted now (fetching, waiting or being embedded). */
  get depth(): number {
    return this.admitted;
  }

  /**
   * Reserves room for `count` inputs, or throws a 429 HttpError with Retry-After. The returned
   * function gives the room back (call it once, when the request is answered).
   */
  admit(count: number): () => void {
    this.checkRoom(count);
    this.admitted += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted -= count;
    };
  }

  /** Throws the 429 `admit` would throw for `count` inputs, reserving nothing. */
  checkRoom(count: number): void {
    if (this.admitted > 0 && this.admitted + count > this.options.maxQueuedItems) {
      const retryAfter = Math.min(60, Math.max(1, Math.ceil(this.admitted * this.secondsPerItem)));
      throw new HttpError(
        429,
        `the server is busy: ${this.admitted} inputs are queued and this request adds ${count}; the limit is maxQueuedItems = ${this.options.maxQueuedItems}. Retry after ${retryAfter} s`,
        { type: 'rate_limit_error', code: 'queue_full' },
        { 'retry-after': String(retryAfter) },
      );
    }
  }

  /** Embeds `inputs` in a shared encoder call; per-input results, in order. */
  embed(inputs: readonly EncodeInput[], options: { truncate?: boolean; signal?: AbortSignal } = {}): Promise<EncodeResult[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const job: Job = { inputs, truncate: options.truncate ?? false, signal: options.signal, resolve, reject };
      // A request that gave up (timeout, client gone) before its turn costs no encoder time.
      options.signal?.addEventListener('abort', () => this.drop(job), { once: true });
      this.waiting.push(job);
      void this.pump();
    });
  }

  private drop(job: Job): void {
    const at = this.waiting.indexOf(job);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    job.reject(job.signal?.reason);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const jobs = this.takeBatch();
        const inputs = jobs.flatMap((j) => j.inputs);
        const started = performance.now();
        try {
          const results = await this.encoder.encodeSettled(inputs, { truncate: jobs[0]!.truncate });
          const seconds = (performance.now() - started) / 1000;
          this.secondsPerItem = 0.8 * this.secondsPerItem + 0.2 * (seconds / inputs.length);
          this.options.onBatch?.(inputs.length, seconds);
          let offset = 0;
          for (const job of jobs) {
            job.resolve(results.slice(offset, offset + job.inputs.length));
            offset += job.inputs.length;
          }
        } catch (err) {
          for (const job of jobs) job.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The oldest job, and the next ones with the same options while the batch bound allows. */
  private takeBatch(): Job[] {
    const head = this.waiting.shift()!;
    const jobs = [head];
    let items = head.inputs.length;
    for (let i = 0; i < this.waiting.length; ) {
      const job = this.waiting[i]!;
      if (job.truncate === head.truncate && items + job.inputs.length <= this.options.maxBatchItems) {
        jobs.push(job);
        items += job.inputs.length;
        this.waiting.splice(i, 1);
      } else i++;
    }
    return jobs;
  }
}
