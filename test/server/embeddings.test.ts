/**
 * /v1/embeddings as OpenAI clients use it: the official `openai` package gets the library's
 * vectors bit for bit; composed items through plain fetch; concurrent requests coalesced into
 * shared encoder calls still get exactly their own rows.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { fixturePath } from '../helpers/fixtures.js';
import { type Running, dataUri, loadTinyEncoder, postJson, sameBits, startServer } from './helpers.js';

const IMAGES = ['cir_query.png', 'cir_candi_1.png', 'wiki_candi_1.jpg', 'synth_small_50x40.png'].map((f) => fixturePath('tiny-bert', `../images/${f}`));
const TEXTS = ['a dog on the beach', 'make the dog white', '', 'ünïcödé and 中文 text', 'x'];

let encoder: Encoder;
let server: Running;
let client: OpenAI;

beforeAll(async () => {
  encoder = await loadTinyEncoder();
  server = await startServer(encoder);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  await encoder?.close();
});

describe('the official openai client', () => {
  test('a list of texts: vectors bitwise equal to the library (default base64 transfer)', async () => {
    const res = await client.embeddings.create({ model: 'visualized-bge', input: TEXTS });
    const expected = await encoder.encode(TEXTS.map((text) => ({ text })));
    expect(res.object).toBe('list');
    expect(res.model).toBe('visualized-bge');
    expect(res.data.map((d) => d.index)).toEqual(TEXTS.map((_, i) => i));
    res.data.forEach((d, i) => expect(sameBits(d.embedding, expected[i]!), `text ${i}`).toBe(true));
    expect(res.usage.prompt_tokens).toBeGreaterThanOrEqual(2 * TEXTS.length);
  });

  test('encoding_format float: JSON numbers that round-trip to the same float32 bits', async () => {
    const res = await client.embeddings.create({ model: 'visualized-bge', input: 'a dog on the beach', encoding_format: 'float' });
    const [expected] = await encoder.encode([{ text: 'a dog on the beach' }]);
    expect(res.data).toHaveLength(1);
    expect(sameBits(res.data[0]!.embedding, expected!)).toBe(true);
  });

  test('the checkpoint file name is a model name; dimensions equal to the model are accepted', async () => {
    const res = await client.embeddings.create({ model: 'Visualized_tiny-bert', input: ['x'], dimensions: encoder.dim });
    expect(res.data[0]!.embedding).toHaveLength(encoder.dim);
  });

  test('an unknown model is a 404 in OpenAI error shape, surfaced by the client', async () => {
    const err = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/text-embedding-3-small.*visualized-bge/);
  });

  test('dimensions other than the model length are refused, naming the field', async () => {
    const err = await client.embeddings.create({ model: 'visualized-bge', input: 'x', dimensions: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const body = (err as InstanceType<typeof OpenAI.BadRequestError>).error as { param: string; message: string };
    expect(body.param).toBe('dimensions');
    expect(body.message).toContain(String(encoder.dim));
  });

  test('GET /v1/models lists the accepted names', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['visualized-bge', 'Visualized_tiny-bert.pth', 'Visualized_tiny-bert']);
  });
});

describe('images and composed items through fetch', () => {
  test('image, composed and text items in one request: bitwise equal to the library', async () => {
    const items = [{ image: IMAGES[0]! }, { image: IMAGES[1]!, text: 'make the dog white' }, { text: 'a cat' }, { image: IMAGES[2]!, text: '' }];
    const res = await postJson(`${server.url}/v1/embeddings`, {
      model: 'visualized-bge',
      input: items.map((it) => ({ ...(it.text !== undefined ? { text: it.text } : {}), ...(it.image ? { image: dataUri(it.image) } : {}) })),
      encoding_format: 'base64',
    });
    expect(res.status).toBe(200);
    const expected = await encoder.encode(items);
    res.json.data.forEach((d: { embedding: string }, i: number) => {
      const bytes = Buffer.from(d.embedding, 'base64');
      expect(sameBits(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), expected[i]!), `item ${i}`).toBe(true);
    });
    // Composed differs from image alone (the text matters).
    expect(sameBits(expected[1]!, (await encoder.encode([{ image: IMAGES[1]! }]))[0]!)).toBe(false);
  });

  test('concurrent requests are coalesced into shared encoder calls and each gets exactly its own rows', async () => {
    const requests = Array.from({ length: 16 }, (_, r) =>
      Array.from({ length: 1 + (r % 3) }, (_, k) => {
        const image = (r + k) % 2 === 0 ? IMAGES[(r + k) % IMAGES.length] : undefined;
        const text = (r + k) % 3 === 0 ? undefined : TEXTS[(r * 7 + k) % TEXTS.length];
        return image === undefined && text === undefined ? { text: 'fallback' } : { ...(text !== undefined ? { text } : {}), ...(image ? { image } : {}) };
      }),
    );
    const before = await batchInputs(server.url);
    const answers = await Promise.all(
      requests.map((items) =>
        postJson(`${server.url}/v1/embeddings`, { input: items.map((it) => ({ ...(it.text !== undefined ? { text: it.text } : {}), ...(it.image ? { image: dataUri(it.image) } : {}) })) }),
      ),
    );
    for (const [r, items] of requests.entries()) {
      expect(answers[r]!.status).toBe(200);
      // Each request's rows against the library called with that request alone.
      const expected = await encoder.encode(items);
      answers[r]!.json.data.forEach((d: { embedding: number[] }, i: number) => expect(sameBits(d.embedding, expected[i]!), `request ${r} item ${i}`).toBe(true));
    }
    const after = await batchInputs(server.url);
    const calls = after.count - before.count;
    const inputs = after.sum - before.sum;
    expect(inputs).toBe(requests.reduce((s, r) => s + r.length, 0));
    // Fewer encoder calls than requests: requests shared calls.
    expect(calls).toBeLessThan(requests.length);
  });
});

/** vbge_batch_inputs histogram's count (encoder calls) and sum (inputs). */
async function batchInputs(url: string): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: read('vbge_batch_inputs_count'), sum: read('vbge_batch_inputs_sum') };
}
