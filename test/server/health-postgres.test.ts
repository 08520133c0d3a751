/**
 * /health over a Postgres index (PGlite with pgvector on the wire protocol): 200 while the store
 * answers, 503 naming the failure once it stops; embeddings keep working meanwhile.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { Index } from '../../src/index/index.js';
import { type TestPostgres, startPostgres } from '../helpers/pglite-server.js';
import { type Running, TEST_ITEMS, loadTinyEncoder, postJson, startServer } from './helpers.js';

let encoder: Encoder;
let postgres: TestPostgres;
let index: Index;
let server: Running;

beforeAll(async () => {
  encoder = await loadTinyEncoder();
  postgres = await startPostgres();
  index = await Index.open({ location: postgres.url('server_health'), encoder, create: true });
  await index.add(TEST_ITEMS.slice(0, 3));
  server = await startServer(encoder, { index });
});
afterAll(async () => {
  await server?.close();
  await index?.close().catch(() => undefined);
  await encoder?.close();
});

test('health follows the store; search works while it answers; embeddings do not need it', async () => {
  const ok = await fetch(`${server.url}/health`);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: 'ok', index: { items: 3, store: 'postgres' } });
  const hits = await postJson(`${server.url}/v1/search`, { query: { text: 'a dog' }, k: 2 });
  expect(hits.status).toBe(200);
  expect(hits.json.data).toHaveLength(2);

  await postgres.close();
  const down = await fetch(`${server.url}/health`);
  expect(down.status).toBe(503);
  const body = (await down.json()) as { status: string; index: { error: string } };
  expect(body.status).toBe('unavailable');
  expect(body.index.error.length).toBeGreaterThan(0);
  expect((await postJson(`${server.url}/v1/embeddings`, { input: ['still here'] })).status).toBe(200);
});
