import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VbgeError } from '../../src/errors.js';
import { buildTextGraph, buildVisionGraph, composedPositions } from '../../src/model/visualized-bge.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { serializeModel } from '../../src/onnx/serialize.js';
import { createSession, ort, sessionOptions } from '../../src/runtime/session.js';
import { WorkerSession } from '../../src/runtime/worker-session.js';
import { recordedPixels } from '../helpers/graph-runner.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';

const model = loadFixtureModel('tiny-bert');
const dir = mkdtempSync(join(tmpdir(), 'vbge-worker-session-'));
const visionPath = join(dir, 'vision.onnx');
const textPath = join(dir, 'text.onnx');
const options = sessionOptions({ threads: 2 });

function pixelFeeds(): Ort.InferenceSession.FeedsType {
  const a = recordedPixels('cir_candi_1.png');
  const b = recordedPixels('cir_candi_2.png');
  const batch = new Float32Array(a.length * 2);
  batch.set(a);
  batch.set(b, a.length);
  return { pixel_values: new ort.Tensor('float32', batch, [2, 3, 224, 224]) };
}

function bytesOf(value: Ort.OnnxValue | undefined): Buffer {
  const data = (value as Ort.Tensor).data as Float32Array;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

beforeAll(() => {
  writeFileSync(visionPath, serializeModel(buildVisionGraph(model.weights, model.config)));
  writeFileSync(textPath, serializeModel(buildTextGraph(model.weights, model.config)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WorkerSession: an ONNX Runtime session in a worker thread', () => {
  it('computes what a session on this thread computes, bit for bit, float32 and int64 inputs alike', async () => {
    const feeds = pixelFeeds();
    const local = await createSession(visionPath, { threads: 2 });
    const remote = await WorkerSession.create(visionPath, options);
    try {
      const want = await local.run(feeds);
      const got = await remote.run(feeds);
      // The inputs' buffers moved to the worker rather than being copied.
      expect(((feeds['pixel_values'] as Ort.Tensor).data as Float32Array).length).toBe(0);
      expect(Object.keys(got)).toEqual(['image_tokens']);
      expect((got['image_tokens'] as Ort.Tensor).dims).toEqual((want['image_tokens'] as Ort.Tensor).dims);
      expect(bytesOf(got['image_tokens']).equals(bytesOf(want['image_tokens']))).toBe(true);

      // The text graph takes int64 ids and positions beside the image tokens.
      const localText = await createSession(textPath, { threads: 2 });
      const remoteText = await WorkerSession.create(textPath, options);
      const t = 3;
      const n = (want['image_tokens'] as Ort.Tensor).dims[1]!;
      const textFeeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from([2n, 17n, 3n, 2n, 40n, 3n]), [2, t]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from([...composedPositions(model.config, t), ...composedPositions(model.config, t)].map(BigInt)), [2, t]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(2 * (n + t)).fill(1n), [2, n + t]),
        image_tokens: want['image_tokens'] as Ort.Tensor,
      };
      const wantText = await localText.run(textFeeds);
      const gotText = await remoteText.run(textFeeds);
      expect(bytesOf(gotText['embedding']).equals(bytesOf(wantText['embedding']))).toBe(true);
      await localText.release();
      await remoteText.release();
    } finally {
      await local.release();
      await remote.release();
    }
  });

  it('a view of part of a buffer crosses as a copy: the rest of the buffer stays with the sender', async () => {
    const pixels = (pixelFeeds()['pixel_values'] as Ort.Tensor).data as Float32Array;
    const one = pixels.length / 2;
    const local = await createSession(visionPath, { threads: 2 });
    const remote = await WorkerSession.create(visionPath, options);
    try {
      const second = pixels.subarray(one);
      const want = await local.run({ pixel_values: new ort.Tensor('float32', second, [1, 3, 224, 224]) });
      const got = await remote.run({ pixel_values: new ort.Tensor('float32', second, [1, 3, 224, 224]) });
      expect(bytesOf(got['image_tokens']).equals(bytesOf(want['image_tokens']))).toBe(true);
      // Both images still here, the first one beside the view untouched.
      expect(pixels.length).toBe(2 * one);
      expect(Buffer.from(pixels.buffer, 0, one * 4).equals(Buffer.from(recordedPixels('cir_candi_1.png').buffer))).toBe(true);
    } finally {
      await local.release();
      await remote.release();
    }
  });

  it("rejects a model it cannot open with ONNX Runtime's error, naming the file", async () => {
    const missing = join(dir, 'no-such-graph.onnx');
    await expect(WorkerSession.create(missing, options)).rejects.toThrow(/no-such-graph\.onnx/);
  });

  it('reports a bad run and keeps working for the next one', async () => {
    const session = await WorkerSession.create(visionPath, options);
    try {
      // ONNX Runtime's own message comes back (here: the image is 100 × 100, the graph takes 224 × 224).
      const small = { pixel_values: new ort.Tensor('float32', new Float32Array(3 * 100 * 100), [1, 3, 100, 100]) };
      await expect(session.run(small)).rejects.toThrow(/pixel_values.*(Expected: 224|224)/s);
      const out = await session.run(pixelFeeds());
      expect((out['image_tokens'] as Ort.Tensor).dims[0]).toBe(2);
    } finally {
      await session.release();
    }
  });

  it('after release, every call fails with a clear error; releasing twice is fine', async () => {
    const session = await WorkerSession.create(visionPath, options);
    await session.release();
    await session.release();
    await expect(session.run(pixelFeeds())).rejects.toThrow(/vision\.onnx was released/);
  });

  // Stopped while idle: ONNX Runtime's binding aborts the whole process when the thread of a run
  // still in flight goes away, which is why release() lets queued runs finish before stopping it.
  it('a worker that has died fails every later call with a clear error instead of hanging', async () => {
    const session = await WorkerSession.create(visionPath, options);
    await session.run(pixelFeeds());
    await (session as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const later = session.run(pixelFeeds());
    await expect(later).rejects.toThrow(VbgeError);
    await expect(later).rejects.toThrow(/worker thread for .*vision\.onnx failed: the worker exited/);
    await session.release();
  });

  it('a process that exits while the worker runs exits cleanly (it waits for the run, never aborts)', () => {
    // A graph that runs for about a second: 100 products of a 1024 × 1024 input with the identity.
    const g = new GraphBuilder('slow');
    let y = g.input('x', 'float32', [1024, 1024]);
    const identity = g.initializer('identity', Float32Array.from({ length: 1024 * 1024 }, (_, i) => (i % 1025 === 0 ? 1 : 0)), [1024, 1024]);
    for (let i = 0; i < 100; i++) y = g.node('MatMul', [y, identity]);
    g.output(y, 'float32', [1024, 1024], 'y');
    const slowPath = join(dir, 'slow.onnx');
    writeFileSync(slowPath, serializeModel(g));
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const script = `
      import { WorkerSession } from ${JSON.stringify(new URL('../../src/runtime/worker-session.ts', import.meta.url).pathname)};
      import { ort, sessionOptions } from ${JSON.stringify(new URL('../../src/runtime/session.ts', import.meta.url).pathname)};
      const session = await WorkerSession.create(${JSON.stringify(slowPath)}, sessionOptions({ threads: 1 }));
      void session.run({ x: new ort.Tensor('float32', new Float32Array(1024 * 1024).fill(1), [1024, 1024]) });
      setTimeout(() => { console.log('exiting'); process.exit(0); }, 200);`;
    const scriptPath = join(dir, 'exit-mid-run.mts');
    writeFileSync(scriptPath, script);
    const child = spawnSync(process.execPath, ['--import', tsx, scriptPath], { encoding: 'utf8', timeout: 50_000 });
    expect(child.stdout.trim(), child.stderr).toBe('exiting');
    expect(child.stderr).not.toMatch(/terminate called/);
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });

  it('an idle session does not keep the process alive', () => {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const script = `
      import { WorkerSession } from ${JSON.stringify(new URL('../../src/runtime/worker-session.ts', import.meta.url).pathname)};
      import { sessionOptions } from ${JSON.stringify(new URL('../../src/runtime/session.ts', import.meta.url).pathname)};
      await WorkerSession.create(${JSON.stringify(visionPath)}, sessionOptions({ threads: 1 }));
      console.log('opened');`;
    const scriptPath = join(dir, 'idle.mts');
    writeFileSync(scriptPath, script);
    const child = spawnSync(process.execPath, ['--import', tsx, scriptPath], { encoding: 'utf8', timeout: 50_000 });
    expect(child.stdout.trim()).toBe('opened');
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });
});
