/** Worker-thread entry of `WorkerSession`: one ONNX Runtime session, its runs, its release. */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { ort } from './session.js';
import { type SessionWorkerReply, type SessionWorkerRequest, type WireTensor, buffersOf } from './worker-session.js';

if (!parentPort) throw new Error('session-worker must run in a worker thread');
const port = parentPort;
let session: Ort.InferenceSession | undefined;

async function answer(req: SessionWorkerRequest): Promise<Record<string, WireTensor> | undefined> {
  if (req.kind === 'open') {
    session = await ort.InferenceSession.create(req.model, req.options);
    return undefined;
  }
  if (!session) throw new Error('no session is open in this worker');
  if (req.kind === 'release') {
    await session.release();
    session = undefined;
    return undefined;
  }
  const feeds: Record<string, Ort.Tensor> = {};
  for (const [name, t] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor(t.type, t.data as Ort.Tensor.DataTypeMap[Ort.Tensor.Type], t.dims);
  const outputs = await session.run(feeds);
  const wire: Record<string, WireTensor> = {};
  for (const [name, value] of Object.entries(outputs)) {
    const tensor = value as Ort.Tensor;
    wire[name] = { type: tensor.type, data: tensor.data, dims: tensor.dims };
  }
  return wire;
}

// One request at a time, in order: the owner never overlaps runs of one session.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: SessionWorkerRequest) => {
  queue = queue.then(() =>
    answer(req).then(
      (outputs) => port.postMessage({ id: req.id, ok: true, outputs } satisfies SessionWorkerReply, outputs ? buffersOf(Object.values(outputs)) : []),
      (err: unknown) => port.postMessage({ id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies SessionWorkerReply),
    ),
  );
});
