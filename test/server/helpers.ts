/** Starting real servers around the tiny fixture model, on loopback ports chosen by the OS. */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Encoder } from '../../src/encoder.js';
import { type ServerOptions, type VbgeServer, createServer, modelNames } from '../../src/server/app.js';
import { fixturePath } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

export const MODEL_FILES = fixtureModelFiles('tiny-bert');

export function loadTinyEncoder(): Promise<Encoder> {
  return Encoder.load({ ...MODEL_FILES, threads: 1 });
}

export interface Running extends VbgeServer {
  url: string;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1:<free port>; its JSON log lines are collected in `logs`. */
export async function startServer(encoder: Encoder, options: Partial<ServerOptions> = {}): Promise<Running> {
  const logs: Record<string, unknown>[] = [];
  const log = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const server = await createServer({ encoder, modelNames: modelNames({ weights: MODEL_FILES.weights }), log, ...options });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as AddressInfo;
  return { ...server, url: `http://127.0.0.1:${port}`, logs, close: () => server.app.close() };
}

export function dataUri(path: string): string {
  const type = path.endsWith('.jpg') ? 'image/jpeg' : 'image/png';
  return `data:${type};base64,${readFileSync(path).toString('base64')}`;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

export function sameBits(a: Float32Array | number[], b: Float32Array): boolean {
  const x = a instanceof Float32Array ? a : Float32Array.from(a);
  return x.length === b.length && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A plain local HTTP server for image URL tests; `hits` counts requests. */
export async function localHttpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const fixtureImage = (file: string): string => fixturePath('tiny-bert', `../images/${file}`);

/** The test index: fixture images with metadata, one composed entry, one text-only entry, an id with a slash and a space. */
export const TEST_ITEMS = [
  { id: 'cir_query', image: fixtureImage('cir_query.png'), metadata: { kind: 'photo', year: 2019 } },
  { id: 'cir_candi_1', image: fixtureImage('cir_candi_1.png'), metadata: { kind: 'photo', year: 2021 } },
  { id: 'cir_candi_2', image: fixtureImage('cir_candi_2.png'), text: 'a white dog', metadata: { kind: 'photo', year: 2022 } },
  { id: 'wiki/candi 1.jpg', image: fixtureImage('wiki_candi_1.jpg'), metadata: { kind: 'scan', year: 2020 } },
  { id: 'wiki_candi_2', image: fixtureImage('wiki_candi_2.jpg'), metadata: { kind: 'scan', year: 2018 } },
  { id: 'synth_wide', image: fixtureImage('synth_wide_640x257.png'), metadata: { kind: 'synthetic', year: 2023 } },
  { id: 'note', text: 'a note about dogs on beaches', metadata: { kind: 'text', year: 2024 } },
];
