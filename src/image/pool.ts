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
  task?: Task;
}

export class ImagePreprocessPool {
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: { workers?: number } = {}) {
    const n = options.workers ?? Math.min(2, availableParallelism());
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`workers must be a positive integer, got ${n}`);
    this.size = n;
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
      slot.task?.reject(error);
      slot.task = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.request);
    }
  }

  private spawn(): Slot {
    const worker = startEntryWorker(import.meta.url, 'pool-worker');
    const slot: Slot = { worker };
    worker.on('message', (msg: PoolResponse) => {
      const task = slot.task;
      if (!task || task.request.id !== msg.id) return;
      slot.task = undefined;
      worker.unref();
      if (msg.ok) task.resolve(msg.result);
      else task.reject(deserializeError(msg.error));
      this.dispatch();
    });
    const fail = (err: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // already removed (closing)
      this.slots.splice(i, 1);
      const task = slot.task;
      slot.task = undefined;
      task?.reject(new VbgeError(`image preprocessing worker failed: ${err.message}`, { cause: err }));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}
