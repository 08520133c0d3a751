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

/**
 * The vision graph's session opened in a worker thread while `openHere` opens the text graph's on
 * this thread (ONNX Runtime creates a session synchronously on its thread: apart, the two
 * overlap). Both or neither: whichever fails, what the other opened is released.
 */
export async function openWithVisionInWorker<T extends { text: GraphSession }>(
  visionModel: string,
  options: Ort.InferenceSession.SessionOptions,
  openHere: () => Promise<T>,
): Promise<T & { vision: GraphSession }> {
  const opening = WorkerSession.create(visionModel, options);
  opening.catch(() => undefined); // awaited below, on success and on failure
  let here: T;
  try {
    here = await openHere();
  } catch (err) {
    await opening.then((vision) => vision.release(), () => undefined);
    throw err;
  }
  try {
    return { ...here, vision: await opening };
  } catch (err) {
    await here.text.release();
    throw err;
  }
}

/** A tensor as it crosses between threads: its buffer is moved (transferred), not copied (see `toWire`). */
export interface WireTensor {
  readonly type: Ort.Tensor.Type;
  readonly data: Ort.Tensor.DataType;
  readonly dims: readonly number[];
}

export type SessionWorkerRequest =
  | {
      readonly kind: 'open';
      readonly id: number;
      readonly model: string;
      readonly options: Ort.InferenceSession.SessionOptions;
      /** One int32, 1 while ONNX Runtime runs in the worker (see `runningFlags`). */
      readonly running: SharedArrayBuffer;
    }
  | { readonly kind: 'run'; readonly id: number; readonly feeds: Record<string, WireTensor> }
  | { readonly kind: 'release'; readonly id: number };

export type SessionWorkerReply =
  | { readonly id: number; readonly ok: true; readonly outputs?: Record<string, WireTensor> }
  | { readonly id: number; readonly ok: false; readonly message: string };

/**
 * Named tensors as they cross, and the distinct buffers under them (to transfer, not copy). A
 * tensor that is a view of part of a larger buffer (one image's tokens among a batch's) crosses as
 * a copy of its range: transferring would take the whole buffer from the sender, views beside it
 * included, and cloning would copy all of it.
 */
export function toWire(values: Ort.InferenceSession.OnnxValueMapType): { tensors: Record<string, WireTensor>; buffers: ArrayBuffer[] } {
  const tensors: Record<string, WireTensor> = {};
  const buffers = new Set<ArrayBuffer>();
  for (const [name, value] of Object.entries(values)) {
    const { type, dims } = value as Ort.Tensor;
    let data = (value as Ort.Tensor).data;
    if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
      buffers.add(data.buffer as ArrayBuffer);
    }
    tensors[name] = { type, data, dims };
  }
  return { tensors, buffers: [...buffers] };
}

/** The tensors again on the receiving side. */
export function fromWire(tensors: Record<string, WireTensor>): Record<string, Ort.Tensor> {
  const values: Record<string, Ort.Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) values[name] = new ort.Tensor(t.type, t.data as Ort.Tensor.DataTypeMap[Ort.Tensor.Type], t.dims);
  return values;
}

/**
 * One int32 per live worker session, 1 while ONNX Runtime runs in that worker. ONNX Runtime's
 * Node binding runs a session synchronously on its thread, and when that thread is stopped
 * mid-run (the process exiting: process.exit, an uncaught exception) the binding's return into
 * the stopped thread aborts the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'"). On the loading thread a run could never overlap an exit; in a worker it can,
 * so the exit waits for runs in progress (a batch takes seconds at most), and the workers then
 * stop between two statements.
 */
const runningFlags = new Set<Int32Array>();
let exitWaits = false;

function waitAtExitForRunsToEnd(flag: Int32Array): void {
  runningFlags.add(flag);
  if (exitWaits) return;
  exitWaits = true;
  process.on('exit', () => {
    for (const running of runningFlags) while (Atomics.load(running, 0) === 1) Atomics.wait(running, 0, 1, 1000);
  });
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
  private readonly running = new Int32Array(new SharedArrayBuffer(4));

  private constructor(
    private readonly worker: Worker,
    /** The model file, for error messages. */
    readonly model: string,
  ) {
    waitAtExitForRunsToEnd(this.running);
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
      await session.request((id) => ({ kind: 'open', id, model, options, running: session.running.buffer as SharedArrayBuffer }));
    } catch (err) {
      await session.release();
      throw err;
    }
    return session;
  }

  async run(feeds: Ort.InferenceSession.FeedsType): Promise<Ort.InferenceSession.ReturnType> {
    const { tensors, buffers } = toWire(feeds);
    return fromWire((await this.request((id) => ({ kind: 'run', id, feeds: tensors }), buffers)) ?? {});
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
      runningFlags.delete(this.running);
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
