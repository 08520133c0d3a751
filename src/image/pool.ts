/**
 * A small worker_threads pool that runs `preprocessImage` off the main thread, so that decoding
 * never blocks the event loop (a server keeps answering while images decode). The encoder asks
 * for a batch's images just before that batch runs, not during inference (see encoder.ts).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { VbgeError } from '../errors.js';
import { startEntryWorker } from '../util/worker.js';
import { deserializeError, type PoolRequest, type PoolResponse } from './pool-protocol.js';
import type { PreprocessedImage, PreprocessOptions } from './preprocess.js';

interface Task {
  request: PoolRequest;
  resolve: (r: PreprocessedImage) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The tasks this worker is running, by request id. */
  tasks: Map<number, Task>;
}

export class ImagePreprocessPool {
  private readonly size: number;
  private readonly tasksPerWorker: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * `tasksPerWorker` images run at once in each worker (default: one per core). A worker's
   * JavaScript (resizing) is one thread, but its decodes run on libuv's threads, so with two images
   * in flight one decodes while the other resizes, and a batch keeps every core busy; more than
   * that only holds more decoded images in memory at once.
   */
  constructor(options: { workers?: number; tasksPerWorker?: number } = {}) {
    const n = options.workers ?? Math.min(2, availableParallelism());
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`workers must be a positive integer, got ${n}`);
    const perWorker = options.tasksPerWorker ?? availableParallelism();
    if (!(Number.isInteger(perWorker) && perWorker >= 1)) throw new RangeError(`tasksPerWorker must be a positive integer, got ${perWorker}`);
    this.size = n;
    this.tasksPerWorker = perWorker;
  }

  /** Images handed to a worker and not yet answered. */
  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.tasks.size, 0);
  }

  /** Same result and same typed errors (`InputError`/`LimitError`, same message) as `preprocessImage`. */
  run(input: string | Uint8Array, options: PreprocessOptions = {}): Promise<PreprocessedImage> {
    if (this.closed) return Promise.reject(new VbgeError('ImagePreprocessPool is closed'));
    return new Promise<PreprocessedImage>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, input, options }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the workers; tasks still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new VbgeError('ImagePreprocessPool was closed before the image was processed');
    for (const task of this.queue.splice(0)) task.reject(error);
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      for (const task of slot.tasks.values()) task.reject(error);
      slot.tasks.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // The least busy worker with room; a new worker only when every one is busy.
      let slot = this.slots.reduce<Slot | undefined>((best, s) => (s.tasks.size < this.tasksPerWorker && (!best || s.tasks.size < best.tasks.size) ? s : best), undefined);
      if ((!slot || slot.tasks.size > 0) && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.tasks.set(task.request.id, task);
      slot.worker.ref();
      slot.worker.postMessage(task.request);
    }
  }

  private spawn(): Slot {
    const worker = startEntryWorker(import.meta.url, 'pool-worker');
    const slot: Slot = { worker, tasks: new Map() };
    worker.on('message', (msg: PoolResponse) => {
      const task = slot.tasks.get(msg.id);
      if (!task) return;
      slot.tasks.delete(msg.id);
      if (slot.tasks.size === 0) worker.unref();
      if (msg.ok) task.resolve(msg.result);
      else task.reject(deserializeError(msg.error));
      this.dispatch();
    });
    const fail = (err: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // already removed (closing)
      this.slots.splice(i, 1);
      const failure = new VbgeError(`image preprocessing worker failed: ${err.message}`, { cause: err });
      for (const task of slot.tasks.values()) task.reject(failure);
      slot.tasks.clear();
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}
