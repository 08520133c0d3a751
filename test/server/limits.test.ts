/**
 * Every server limit answers with a clear error that names the limit (and the item), and none
 * of them loses other work: 413 for the body and item count, 400 per bad item, 429 with
 * Retry-After when the queue is full, 504 past the request deadline. Requests held in flight by a
 * slow local image server make queue and deadline states deterministic.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { fixturePath } from '../helpers/fixtures.js';
import { type Running, dataUri, loadTinyEncoder, localHttpServer, postJson, sameBits, startServer } from './helpers.js';

const PNG = fixturePath('tiny-bert', '../images/synth_small_50x40.png');

let encoder: Encoder;
beforeAll(async () => {
  encoder = await loadTinyEncoder();
});
afterAll(async () => encoder?.close());

describe('request size', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer(encoder, { limits: { maxRequestBodyBytes: 20_000, maxItemsPerRequest: 4 } });
  });
  afterAll(async () => server?.close());

  test('a body over maxRequestBodyBytes is a 413 naming the limit', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: ['x'.repeat(30_000)] });
    expect(res.status).toBe(413);
    expect(res.json.error.message).toMatch(/maxRequestBodyBytes = 20000/);
    expect(res.json.error.code).toBe('limit_exceeded');
  });

  test('more items than maxItemsPerRequest is a 413 naming the limit and the count', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: ['a', 'b', 'c', 'd', 'e'] });
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ param: 'input', code: 'limit_exceeded', limit: { name: 'maxItemsPerRequest', value: 4, actual: 5 } });
    expect(res.json.error.message).toContain('5 items');
  });

  test('the server keeps serving after refusals', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: ['a', 'b', 'c', 'd'] });
    expect(res.status).toBe(200);
    expect(res.json.data).toHaveLength(4);
  });

  test('refusals are counted by limit in /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/vbge_rejections_total\{limit="maxRequestBodyBytes"\} [1-9]/);
    expect(text).toMatch(/vbge_rejections_total\{limit="maxItemsPerRequest"\} [1-9]/);
  });
});

describe('per-item errors', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer(encoder);
  });
  afterAll(async () => server?.close());

  test('every bad item is named with its limit; the first in the message', async () => {
    const limit = encoder.tokenLimit(false);
    const long = Array.from({ length: limit + 5 }, (_, i) => `w${i}`).join(' ');
    const res = await postJson(`${server.url}/v1/embeddings`, { input: [{ text: 'fine' }, { text: long }, { text: 'fine' }, { image: 'data:image/png;base64,AAAA' }] });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('input[1]');
    expect(res.json.error.message).toMatch(/^input\[1\].*tokens is \d+, the limit is \d+/);
    expect(res.json.error.code).toBe('limit_exceeded');
    const items = res.json.error.items as { index: number; message: string; limit?: { name: string; value: number } }[];
    expect(items.map((i) => i.index)).toEqual([1, 3]);
    expect(items[0]!.limit).toMatchObject({ name: 'tokens', value: limit });
    expect(items[1]!.message).toMatch(/^input\[3\]/);
  });

  test('an image over the pixel limit is refused from its header, naming the item and the limit', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: ['fine', { image: `data:image/png;base64,${pngHeaderOnly(20_000, 20_000).toString('base64')}`, text: 'x' }] });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('input[1]');
    expect(res.json.error.items[0]).toMatchObject({ index: 1, limit: { name: 'image pixel count', value: 50_000_000, actual: 400_000_000 } });
    expect(res.json.error.message).toMatch(/^input\[1\].*image pixel count is 400000000, the limit is 50000000/);
  });

  test('truncate: true embeds the over-long text as the library does with truncate', async () => {
    const long = Array.from({ length: encoder.tokenLimit(false) + 5 }, (_, i) => `w${i}`).join(' ');
    const res = await postJson(`${server.url}/v1/embeddings`, { input: [long], truncate: true });
    expect(res.status).toBe(200);
    const [expected] = await encoder.encode([{ text: long }], { truncate: true });
    expect(sameBits(res.json.data[0].embedding, expected!)).toBe(true);
  });

  test('malformed requests name the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{}, 'input', /"input" is required/],
      [{ input: [] }, 'input', /empty/],
      [{ input: [[1, 2, 3]] }, 'input[0]', /token id arrays/],
      [{ input: [{ text: 'a', caption: 'b' }] }, 'input[0].caption', /unknown field "caption"/],
      [{ input: [{}] }, 'input[0]', /neither "text" nor "image"/],
      [{ input: 'a', encoding_format: 'int8' }, 'encoding_format', /"float" or "base64"/],
      [{ input: 'a', extra: 1 }, 'extra', /unknown field "extra"/],
    ];
    for (const [body, param, message] of cases) {
      const res = await postJson(`${server.url}/v1/embeddings`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.param, JSON.stringify(body)).toBe(param);
      expect(res.json.error.message, JSON.stringify(body)).toMatch(message);
      expect(res.json.error.type).toBe('invalid_request_error');
    }
  });

  test('invalid JSON and a non-JSON body are 400 / 415 in OpenAI shape', async () => {
    const bad = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": [' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const text = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a dog' });
    expect(text.status).toBe(415);
  });

  test('image URLs are refused while not enabled (the default)', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: [{ image: 'http://127.0.0.1:1/x.png' }] });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/input\[0\]\.image: image URLs are not enabled/);
  });
});

describe('queue bound and request deadline', () => {
  // Image URLs to a local server that answers only when the test lets it: requests stay in flight.
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const png = readFileSync(PNG);
  let images: Awaited<ReturnType<typeof localHttpServer>>;
  let server: Running;
  beforeAll(async () => {
    images = await localHttpServer((req, res) => {
      if (req.url === '/never') return; // never answers
      void gate.then(() => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    });
    server = await startServer(encoder, {
      limits: { maxQueuedItems: 2, requestTimeoutMs: 1500 },
      imageUrls: { allowHosts: ['127.0.0.1'], allowAddresses: ['127.0.0.1'], timeoutMs: 30_000 },
    });
  });
  afterAll(async () => {
    release();
    await server?.close();
    await images?.close();
  });

  test('a full queue answers 429 with Retry-After at once; the admitted request still completes', async () => {
    const waitFor = async (n: number): Promise<void> => {
      while (images.hits() < n) await new Promise((r) => setTimeout(r, 10));
    };
    const held = postJson(`${server.url}/v1/embeddings`, { input: [{ image: `${images.url}/a.png` }, { image: `${images.url}/b.png`, text: 'white' }] });
    await waitFor(2);
    const refused = await postJson(`${server.url}/v1/embeddings`, { input: ['one more'] });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.json.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
    expect(refused.json.error.message).toMatch(/maxQueuedItems = 2/);
    // Refused before the body is read: even a malformed body gets the 429, not a 400.
    const unread = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": [' });
    expect(unread.status).toBe(429);
    expect((await postJson(`${server.url}/v1/search`, { query: { text: 'x' } })).status).toBe(429);
    release();
    const done = await held;
    expect(done.status).toBe(200);
    const expected = await encoder.encode([{ image: png }, { image: png, text: 'white' }]);
    done.json.data.forEach((d: { embedding: number[] }, i: number) => expect(sameBits(d.embedding, expected[i]!)).toBe(true));
    const after = await postJson(`${server.url}/v1/embeddings`, { input: ['one more'] });
    expect(after.status).toBe(200);
  });

  test('a request past requestTimeoutSeconds is a 504 naming the limit, and gives its queue room back', async () => {
    const res = await postJson(`${server.url}/v1/embeddings`, { input: [{ image: `${images.url}/never` }, { text: 'x' }] });
    expect(res.status).toBe(504);
    expect(res.json.error.message).toMatch(/requestTimeoutSeconds = 1.5 s/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^vbge_queue_depth 0$/m);
    const again = await postJson(`${server.url}/v1/embeddings`, { input: ['a', 'b'] });
    expect(again.status).toBe(200);
  });
});

describe('API key', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer(encoder, { apiKey: 's3cret-key' });
  });
  afterAll(async () => server?.close());

  test('no key, a wrong key and a malformed header are 401 with WWW-Authenticate; the right key passes', async () => {
    const none = await postJson(`${server.url}/v1/embeddings`, { input: 'x' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.json.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect(none.json.error.message).toMatch(/Authorization: Bearer/);
    expect((await postJson(`${server.url}/v1/embeddings`, { input: 'x' }, { authorization: 'Bearer s3cret-kez' })).status).toBe(401);
    expect((await postJson(`${server.url}/v1/embeddings`, { input: 'x' }, { authorization: 's3cret-key' })).status).toBe(401);
    expect((await fetch(`${server.url}/v1/models`)).status).toBe(401);
    const ok = await postJson(`${server.url}/v1/embeddings`, { input: 'x' }, { authorization: 'Bearer s3cret-key' });
    expect(ok.status).toBe(200);
  });

  test('health, metrics, docs and the page stay open', async () => {
    for (const path of ['/health', '/metrics', '/docs', '/']) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
  });
});

describe('health, docs, logs', () => {
  let server: Running;
  beforeAll(async () => {
    server = await startServer(encoder);
  });
  afterAll(async () => server?.close());

  test('/docs describes every route the server has, and nothing else', async () => {
    const doc = (await (await fetch(`${server.url}/docs`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const served = server.routes.filter((r) => !['GET /app.js', 'GET /style.css'].includes(r));
    expect(new Set(documented)).toEqual(new Set(served));
  });

  test('one JSON log line per request: method, route, status, duration, items', async () => {
    await postJson(`${server.url}/v1/embeddings`, { input: ['a', 'b', 'c'] });
    await fetch(`${server.url}/nowhere`);
    const lines = server.logs.filter((l) => l['msg'] === 'request');
    expect(lines.find((l) => l['route'] === '/v1/embeddings')).toMatchObject({ method: 'POST', status: 200, items: 3 });
    expect(typeof lines.find((l) => l['route'] === '/v1/embeddings')!['ms']).toBe('number');
    expect(lines.find((l) => l['url'] === '/nowhere')).toMatchObject({ status: 404, route: 'unmatched' });
  });

  test('/health reports the model; /metrics counts requests by route and status', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; model: { dim: number } };
    expect(health).toMatchObject({ status: 'ok', model: { dim: encoder.dim } });
    await postJson(`${server.url}/v1/embeddings`, { input: [{ image: dataUri(PNG), text: 'a' }] });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/vbge_http_requests_total\{route="\/v1\/embeddings",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/vbge_items_embedded_total\{kind="composed"\} 1/);
    expect(text).toMatch(/vbge_http_request_duration_seconds_bucket/);
  });
});

/** PNG's CRC-32 (zlib.crc32 exists only from Node 20.15; the project supports 20.9). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG that declares width × height but holds almost no data: a decompression bomb's header. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const emptyZlib = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', emptyZlib), chunk('IEND', Buffer.alloc(0))]);
}
