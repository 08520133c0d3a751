/** Worker-thread entry of `WorkerSession`: one ONNX Runtime session, its runs, its release. */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { OneAtATime } from '../util/one-at-a-time.js';
import { ort } from './session.js';
import { type SessionWorkerReply, type SessionWorkerRequest, type WireTensor, fromWire, toWire } from './worker-session.js';

if (!parentPort) throw new Error('session-worker must run in a worker thread');
const port = parentPort;
let session: Ort.InferenceSession | undefined;
/** 1 while a run is inside ONNX Runtime: the owning thread waits for 0 before the process exits. */
let running: Int32Array | undefined;

/** The outputs of a run (and their buffers, to transfer), or nothing for an open or a release. */
async function answer(req: SessionWorkerRequest): Promise<{ tensors: Record<string, WireTensor>; buffers: ArrayBuffer[] } | undefined> {
  if (req.kind === 'open') {
    running = new Int32Array(req.running);
    session = await ort.InferenceSession.create(req.model, req.options);
    return undefined;
  }
  if (!session) throw new Error('no session is open in this worker');
  if (req.kind === 'release') {
    await session.release();
    session = undefined;
    return undefined;
  }
  Atomics.store(running!, 0, 1);
  try {
    return toWire(await session.run(fromWire(req.feeds)));
  } finally {
    Atomics.store(running!, 0, 0);
    Atomics.notify(running!, 0);
  }
}

// One request at a time, in order: the owner never overlaps runs of one session.
const requests = new OneAtATime();
port.on('message', (req: SessionWorkerRequest) => {
  void requests.run(() =>
    answer(req).then(
      (outputs) => port.postMessage({ id: req.id, ok: true, outputs: outputs?.tensors } satisfies SessionWorkerReply, outputs?.buffers ?? []),
      (err: unknown) => port.postMessage({ id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies SessionWorkerReply),
    ),
  );
});
