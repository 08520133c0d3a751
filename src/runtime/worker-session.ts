/**
 * An ONNX Runtime session that lives in a worker thread of its own.
 *
 * ONNX Runtime's Node binding creates a session synchronously on the calling thread, and most of
 * that time is the binding's own work on the weights (it prepacks and hashes every GEMM weight even
 * when the prepacked copy is mapped from the graph cache: 1.2–1.9 s for bge-m3's vision tower).
 * Two sessions created on one thread take the sum of their times; with the vision tower's created
 * here while the loading thread creates the text tower's and reads the tokenizer, they overlap.
 * Runs are forwarded to the worker: the same library with the same options on the same inputs,
 * so the same bits.
 */
import type { Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { VbgeError } from '../errors.js';
import { startEntryWorker } from '../util/worker.js';
import { ort } from './session.js';

/** What the encoder needs of a graph's session, wherever the session lives. */
export interface GraphSession {
  run(feeds: Ort.InferenceSession.FeedsType): Promise<Ort.InferenceSession.ReturnType>;
  release(): Promise<void>;
}

/** A tensor as it crosses between threads: its buffer is moved (transferred), never copied. */
export interface WireTensor {
  readonly type: Ort.Tensor.Type;
  readonly data: Ort.Tensor.DataType;
  readonly dims: readonly number[];
}

export type SessionWorkerRequest =
  | { readonly kind: 'open'; readonly id: number; readonly model: string; readonly options: Ort.InferenceSession.SessionOptions }
  | { readonly kind: 'run'; readonly id: number; readonly feeds: Record<string, WireTensor> }
  | { readonly kind: 'release'; readonly id: number };

export type SessionWorkerReply =
  | { readonly id: number; readonly ok: true; readonly outputs?: Record<string, WireTensor> }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** The distinct buffers under these tensors, to transfer rather than copy. */
export function buffersOf(tensors: Iterable<WireTensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of tensors) if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) buffers.add(data.buffer);
  return [...buffers];
}

interface Pending {
  resolve: (reply: Record<string, WireTensor> | undefined) => void;
  reject: (err: Error) => void;
}

/**
 * A session in a worker thread. `run` moves its inputs' buffers to the worker instead of copying
 * them (a batch of images is megabytes): pass tensors you no longer need, as `ModelRunner` does.
 */
export class WorkerSession implements GraphSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker can no longer answer: every later call fails with it. */
  private broken?: Error;
  private released = false;

  private constructor(
    private readonly worker: Worker,
    /** The model file, for error messages. */
    readonly model: string,
  ) {
    worker.on('message', (reply: SessionWorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiting.resolve(reply.outputs);
      else waiting.reject(new Error(reply.message));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.released) this.fail(new Error(`the worker exited with code ${code}`));
    });
  }

  /** Starts the worker and creates the session there; rejects with ONNX Runtime's error. */
  static async create(model: string, options: Ort.InferenceSession.SessionOptions): Promise<WorkerSession> {
    const session = new WorkerSession(startEntryWorker(import.meta.url, 'session-worker'), model);
    try {
      await session.request((id) => ({ kind: 'open', id, model, options }));
    } catch (err) {
      await session.release();
      throw err;
    }
    return session;
  }

  async run(feeds: Ort.InferenceSession.FeedsType): Promise<Ort.InferenceSession.ReturnType> {
    const wire: Record<string, WireTensor> = {};
    for (const [name, value] of Object.entries(feeds)) {
      const tensor = value as Ort.Tensor;
      wire[name] = { type: tensor.type, data: tensor.data, dims: tensor.dims };
    }
    const outputs = (await this.request((id) => ({ kind: 'run', id, feeds: wire }), buffersOf(Object.values(wire)))) ?? {};
    const result: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(outputs)) result[name] = new ort.Tensor(t.type, t.data as Ort.Tensor.DataTypeMap[Ort.Tensor.Type], t.dims);
    return result;
  }

  /** Releases the session and stops the worker; safe to call twice, and after a failure. */
  async release(): Promise<void> {
    if (this.released) return;
    try {
      if (!this.broken) await this.request((id) => ({ kind: 'release', id }));
    } catch {
      // The worker is stopped below either way.
    } finally {
      this.released = true;
      this.fail(new VbgeError(`the ONNX Runtime session of ${this.model} was released`));
      await this.worker.terminate();
    }
  }

  private request(make: (id: number) => SessionWorkerRequest, transfer: ArrayBuffer[] = []): Promise<Record<string, WireTensor> | undefined> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(make(id), transfer);
    });
  }

  /** Rejects every waiting call and all later ones. */
  private fail(cause: Error): void {
    this.broken ??=
      cause instanceof VbgeError ? cause : new VbgeError(`the ONNX Runtime worker thread for ${this.model} failed: ${cause.message}`, { cause });
    for (const waiting of this.pending.values()) waiting.reject(this.broken);
    this.pending.clear();
    this.worker.unref();
  }
}
