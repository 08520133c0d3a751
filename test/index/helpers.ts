/** Shared pieces of the retrieval tests: the tiny model, a folder of test images, a Postgres to talk to. */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { openStore } from '../../src/store/open.js';
import type { StoredRecord } from '../../src/store/types.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

export const IMAGES_DIR = resolve('test/fixtures/images');
export const MODEL_FILES = fixtureModelFiles('tiny-bert');

export function loadTinyEncoder(): Promise<Encoder> {
  return Encoder.load({ ...MODEL_FILES, graphCache: false, threads: 1, imageWorkers: 0 });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vbge-${prefix}-`));
}

/** A folder holding copies of `count` fixture images (all of them by default), names sorted. */
export function imageFolder(count = Infinity): string {
  const dir = join(tempDir('images'), 'photos');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(IMAGES_DIR).sort().slice(0, count)) copyFileSync(join(IMAGES_DIR, name), join(dir, name));
  return dir;
}

export { type TestPostgres, startPostgres } from '../helpers/pglite-server.js';

const ROOT = resolve('.');

/** Starts `vbge` from the sources without waiting for it (for tests that kill it or run several at once). */
export function spawnCli(args: readonly string[]): { child: import('node:child_process').ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/cli/run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((ok) => child.on('close', (code, signal) => ok({ code, signal, stderr })));
  return { child, done };
}

/** Every stored record of an index, by id (vectors included), read through the store itself. */
export async function readAllRecords(location: string): Promise<Map<string, StoredRecord>> {
  const store = await openStore(location);
  try {
    const all = new Map<string, StoredRecord>();
    for await (const batch of store.scan()) for (const r of batch) {
      if (all.has(r.id)) throw new Error(`duplicate id ${r.id} in ${location}`);
      all.set(r.id, r);
    }
    return all;
  } finally {
    await store.close();
  }
}

/** How many records the index holds now; 0 while it does not exist yet. */
export async function countRecords(location: string): Promise<number> {
  try {
    const store = await openStore(location);
    try {
      return (await store.readManifest()) ? await store.count() : 0;
    } finally {
      await store.close();
    }
  } catch {
    return 0;
  }
}

/** Asserts two indexes hold the same ids with bitwise equal vectors, keys and metadata. */
export function expectSameRecords(actual: Map<string, StoredRecord>, expected: Map<string, StoredRecord>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, want] of expected) {
    const got = actual.get(id)!;
    expect(Buffer.from(got.vector.buffer, got.vector.byteOffset, got.vector.byteLength).equals(Buffer.from(want.vector.buffer, want.vector.byteOffset, want.vector.byteLength)), `vector of ${id}`).toBe(true);
    expect({ key: got.key, path: got.path, text: got.text, metadata: got.metadata }).toEqual({ key: want.key, path: want.path, text: want.text, metadata: want.metadata });
  }
}

/** A manifest of `texts` captions plus every fixture image (some with a caption: composed entries). */
export function writeManifest(dir: string, texts: number): string {
  const lines: string[] = [];
  for (let i = 0; i < texts; i++) lines.push(JSON.stringify({ id: `text-${i}`, text: `caption number ${i}: a ${['dog', 'cat', 'city', 'beach'][i % 4]} seen from ${i % 7} metres`, n: i }));
  readdirSync(IMAGES_DIR)
    .sort()
    .forEach((name, i) => lines.push(JSON.stringify({ id: `image-${name}`, image: join(IMAGES_DIR, name), ...(i % 2 ? { text: `photo ${i}` } : {}), n: i })));
  const path = join(dir, 'manifest.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
