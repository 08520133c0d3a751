/** Worker-thread entry of `ImagePreprocessPool`: runs `preprocessImage` for each request. */
import { parentPort } from 'node:worker_threads';
import { serializeError, type PoolRequest, type PoolResponse } from './pool-protocol.js';
import { preprocessImage } from './preprocess.js';

if (!parentPort) throw new Error('pool-worker must run in a worker thread');
const port = parentPort;

port.on('message', (req: PoolRequest) => {
  preprocessImage(req.input, req.options).then(
    (result) => {
      const msg: PoolResponse = { id: req.id, ok: true, result };
      port.postMessage(msg, [result.pixels.buffer as ArrayBuffer, result.rgb224.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const msg: PoolResponse = { id: req.id, ok: false, error: serializeError(err) };
      port.postMessage(msg);
    },
  );
});
