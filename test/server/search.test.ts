/**
 * /v1/search and /v1/items/:id/image over a real Index (LanceDB in a temporary folder, built with
 * Index.add from the fixture images): the same hits as the library's Index.search, in the shape
 * `vbge search --json` prints; thumbnails only for indexed items with an image file, whatever
 * the id looks like.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { Index } from '../../src/index/index.js';
import { hitJson } from '../../src/index/hit-json.js';
import { type Running, TEST_ITEMS, dataUri, fixtureImage as image, loadTinyEncoder, postJson, startServer } from './helpers.js';

/** What `vbge search --json` prints for a hit: the one function the CLI and the server share. */
const asJson = hitJson;

let encoder: Encoder;
let index: Index;
let dir: string;
let server: Running;

beforeAll(async () => {
  encoder = await loadTinyEncoder();
  dir = mkdtempSync(join(tmpdir(), 'vbge-server-index-'));
  index = await Index.open({ location: dir, encoder, create: true });
  const report = await index.add(TEST_ITEMS);
  expect(report.rejects).toEqual([]);
  server = await startServer(encoder, { index });
});
afterAll(async () => {
  await server?.close();
  await index?.close();
  await encoder?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/search', () => {
  test('text, image and composed queries: the library\'s hits, best first, as vbge search --json prints them', async () => {
    const queries = [
      { http: { text: 'a dog on the beach' }, lib: { text: 'a dog on the beach' } },
      { http: { image: dataUri(image('cir_query.png')) }, lib: { image: image('cir_query.png') } },
      { http: { image: dataUri(image('cir_query.png')), text: 'make the dog white' }, lib: { image: image('cir_query.png'), text: 'make the dog white' } },
    ];
    for (const q of queries) {
      const res = await postJson(`${server.url}/v1/search`, { query: q.http, k: 5 });
      expect(res.status).toBe(200);
      const expected = (await index.search(q.lib, { k: 5 })).map(asJson);
      expect(res.json.data).toEqual(expected);
      expect(res.json.data).toHaveLength(5);
      const scores = res.json.data.map((h: { score: number }) => h.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    }
  });

  test('more like this ({ id }) excludes the item itself; where filters; offset pages', async () => {
    const like = await postJson(`${server.url}/v1/search`, { query: { id: 'cir_query' }, k: 10 });
    expect(like.status).toBe(200);
    expect(like.json.data.map((h: { id: string }) => h.id)).not.toContain('cir_query');
    expect(like.json.data).toEqual((await index.search({ id: 'cir_query' }, { k: 10 })).map(asJson));

    const filtered = await postJson(`${server.url}/v1/search`, { query: { text: 'dog' }, k: 10, where: "kind = 'scan'" });
    expect(filtered.json.data.map((h: { id: string }) => h.id).sort()).toEqual(['wiki/candi 1.jpg', 'wiki_candi_2']);
    expect(filtered.json.data[0]).toMatchObject({ kind: 'scan' });

    const all = await postJson(`${server.url}/v1/search`, { query: { text: 'dog' }, k: 6 });
    const page = await postJson(`${server.url}/v1/search`, { query: { text: 'dog' }, k: 3, offset: 3 });
    expect(page.json.data).toEqual(all.json.data.slice(3, 6));
  });

  test('bad searches name what is wrong', async () => {
    const missing = await postJson(`${server.url}/v1/search`, { query: { id: 'nope' } });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ param: 'query.id', code: 'item_not_found' });
    const where = await postJson(`${server.url}/v1/search`, { query: { text: 'x' }, where: 'kind = = 3' });
    expect(where.status).toBe(400);
    expect(where.json.error.param).toBe('where');
    const big = await postJson(`${server.url}/v1/search`, { query: { text: 'x' }, k: 990, offset: 20 });
    expect(big.status).toBe(400);
    expect(big.json.error.message).toMatch(/"k" \+ "offset" is 1010, the limit is maxSearchResults = 1000/);
    const empty = await postJson(`${server.url}/v1/search`, { query: {} });
    expect(empty.status).toBe(400);
    expect(empty.json.error.param).toBe('query');
    const badImage = await postJson(`${server.url}/v1/search`, { query: { image: 'data:image/png;base64,AAAA' } });
    expect(badImage.status).toBe(400);
    expect(badImage.json.error.message).toMatch(/^query/);
  });
});

describe('GET /v1/items/:id/image', () => {
  test('an indexed item\'s image as a WebP thumbnail at most 384 px', async () => {
    for (const id of ['cir_candi_2', 'wiki/candi 1.jpg']) {
      const res = await fetch(`${server.url}/v1/items/${encodeURIComponent(id)}/image`);
      expect(res.status, id).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(384);
    }
  });

  test('ids that are not indexed, text-only items and path tricks are refused, never read from disk', async () => {
    const tricks = [
      'nope',
      '../../package.json',
      '/etc/passwd',
      image('cir_query.png'), // the file's real path is not an id
      '..%2F..%2Fpackage.json',
      '%00',
    ];
    for (const id of tricks) {
      const res = await fetch(`${server.url}/v1/items/${encodeURIComponent(id)}/image`);
      expect(res.status, id).toBe(404);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code, id).toBe('item_not_found');
    }
    const raw = await fetch(`${server.url}/v1/items/..%2f..%2f..%2fetc%2fpasswd/image`);
    expect(raw.status).toBe(404);
    const text = await fetch(`${server.url}/v1/items/note/image`);
    expect(text.status).toBe(404);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe('no_image');
  });

  test('/health reports the index', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; index: { items: number; store: string } };
    expect(health).toMatchObject({ status: 'ok', index: { items: TEST_ITEMS.length, store: 'lancedb' } });
  });
});

describe('without an index', () => {
  test('search and thumbnails say that the server has no index', async () => {
    const bare = await startServer(encoder);
    try {
      const res = await postJson(`${bare.url}/v1/search`, { query: { text: 'x' } });
      expect(res.status).toBe(404);
      expect(res.json.error.message).toMatch(/no index; start it with vbge serve --index/);
      expect((await fetch(`${bare.url}/v1/items/x/image`)).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
