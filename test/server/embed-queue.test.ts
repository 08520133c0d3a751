/**
 * The coalescing queue over the real tiny encoder: waiting requests share one encoder call and
 * get their own rows; requests with different options never share a call; a request that gives
 * up before its turn costs no encoder time; admission is bounded and always given back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EncodeInput, EncodeOptions, EncodeResult, Encoder } from '../../src/encoder.js';
import { EmbedQueue } from '../../src/server/embed-queue.js';
import { HttpError } from '../../src/server/errors.js';
import { fixtureImage, loadTinyEncoder, sameBits } from './helpers.js';

let encoder: Encoder;
beforeAll(async () => {
  encoder = await loadTinyEncoder();
});
afterAll(async () => encoder?.close());

/** The real encoder, with a record of every call the queue makes. */
function recording(): { calls: { inputs: number; truncate: boolean }[]; encodeSettled(i: readonly EncodeInput[], o?: EncodeOptions): Promise<EncodeResult[]> } {
  const calls: { inputs: number; truncate: boolean }[] = [];
  return {
    calls,
    encodeSettled: (inputs, options) => {
      calls.push({ inputs: inputs.length, truncate: options?.truncate ?? false });
      return encoder.encodeSettled(inputs, options);
    },
  };
}

describe('EmbedQueue', () => {
  test('requests waiting together share one call; each gets its own rows, bitwise', async () => {
    const enc = recording();
    const queue = new EmbedQueue(enc, { maxQueuedItems: 100, maxBatchItems: 64 });
    const requests: EncodeInput[][] = [[{ text: 'first' }], [{ text: 'a' }, { image: fixtureImage('cir_query.png'), text: 'b' }], [{ image: fixtureImage('synth_small_50x40.png') }], [{ text: 'c' }]];
    const results = await Promise.all(requests.map((r) => queue.embed(r)));
    // The first starts alone at once; the other three waited and went together.
    expect(enc.calls.map((c) => c.inputs)).toEqual([1, 4]);
    for (const [r, inputs] of requests.entries()) {
      const expected = await encoder.encode(inputs);
      results[r]!.forEach((res, i) => expect(res.ok && sameBits(res.embedding, expected[i]!)).toBe(true));
    }
  });

  test('a bad input fails alone, in its own request', async () => {
    const queue = new EmbedQueue(encoder, { maxQueuedItems: 100, maxBatchItems: 64 });
    const [good, bad] = await Promise.all([queue.embed([{ text: 'fine' }]), queue.embed([{ text: 'fine' }, { image: new Uint8Array([1, 2, 3]), name: 'input[1]' }])]);
    expect(good[0]!.ok).toBe(true);
    expect(bad[0]!.ok).toBe(true);
    expect(bad[1]!.ok).toBe(false);
    expect(!bad[1]!.ok && bad[1]!.error.message).toMatch(/^input\[1\]/);
  });

  test('different truncate options never share a call; the batch bound splits calls', async () => {
    const enc = recording();
    const queue = new EmbedQueue(enc, { maxQueuedItems: 100, maxBatchItems: 3 });
    await Promise.all([
      queue.embed([{ text: 'head' }]),
      queue.embed([{ text: 'a' }, { text: 'b' }], { truncate: true }),
      queue.embed([{ text: 'c' }]),
      queue.embed([{ text: 'd' }, { text: 'e' }]),
      queue.embed([{ text: 'f' }], { truncate: true }),
    ]);
    expect(enc.calls).toEqual([
      { inputs: 1, truncate: false },
      { inputs: 3, truncate: true },
      { inputs: 3, truncate: false },
    ]);
  });

  test('a request aborted while waiting is dropped without encoder time', async () => {
    const enc = recording();
    const queue = new EmbedQueue(enc, { maxQueuedItems: 100, maxBatchItems: 64 });
    const controller = new AbortController();
    const head = queue.embed([{ text: 'head' }]);
    const abandoned = queue.embed([{ text: 'x' }, { text: 'y' }], { signal: controller.signal });
    controller.abort(new Error('client gone'));
    await expect(abandoned).rejects.toThrow('client gone');
    await head;
    expect(enc.calls.map((c) => c.inputs)).toEqual([1]);
  });

  test('admission is bounded in inputs, refuses with Retry-After, and is given back once', () => {
    const queue = new EmbedQueue(encoder, { maxQueuedItems: 4, maxBatchItems: 64 });
    const releaseA = queue.admit(3);
    let refusal: unknown;
    try {
      queue.admit(2);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(HttpError);
    expect((refusal as HttpError).status).toBe(429);
    expect(Number((refusal as HttpError).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const releaseB = queue.admit(1);
    expect(queue.depth).toBe(4);
    releaseA();
    releaseA();
    expect(queue.depth).toBe(1);
    releaseB();
    // An empty queue takes even a request larger than the bound (it could never fit otherwise).
    queue.admit(10)();
    expect(queue.depth).toBe(0);
  });
});
