import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { modelArgs, runCli } from '../helpers/cli.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
/** Each case starts several `vbge` processes (each loads the model): generous on a busy 2-core host. */
const CLI_TIMEOUT = 300_000;

import { IMAGES_DIR, MODEL_FILES, type TestPostgres, imageFolder, startPostgres, tempDir } from './helpers.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres.close();
});

const MODEL = modelArgs(MODEL_FILES);
const STORES = [
  ['LanceDB', () => ['--index', join(tempDir('cli'), 'idx')]],
  ['Postgres', () => ['--store', postgres.url(`cli_${Math.random().toString(36).slice(2, 8)}`)]],
] as const;

interface Hit {
  id: string;
  path?: string;
  text?: string;
  score: number;
  [key: string]: unknown;
}

async function search(where: readonly string[], args: readonly string[]): Promise<Hit[]> {
  const r = await runCli(['search', ...where, '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Hit[];
}

function expectRanked(hits: readonly Hit[]): void {
  for (let i = 1; i < hits.length; i++) {
    const a = hits[i - 1]!;
    const b = hits[i]!;
    expect(a.score > b.score || (a.score === b.score && a.id < b.id)).toBe(true);
  }
}

describe.each(STORES)('vbge index and vbge search on %s', (_name, location) => {
  test('index a folder and a manifest; search by text, image, both, --like and --where; re-index a changed file; --sync', async () => {
    const where = location();
    const folder = imageFolder();
    const manifest = join(folder, '..', 'extra.jsonl');
    writeFileSync(
      manifest,
      [
        JSON.stringify({ id: 'doc-1', text: 'a white dog on the grass', year: 2021, kind: 'caption' }),
        JSON.stringify({ id: 'doc-2', text: 'a city at night', year: 2019, kind: 'caption' }),
        JSON.stringify({ id: 'pair-1', image: 'photos/cir_candi_2.png', text: 'the same dog, but white', year: 2022, kind: 'pair' }),
      ].join('\n') + '\n',
    );

    const first = await runCli(['index', folder, manifest, ...where, ...MODEL, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/19 new, 0 changed, 0 metadata updated, 0 unchanged, 0 removed, 0 rejected/);

    // the model is the index's own: no model options from here on
    const byText = await search(where, ['--text', 'a dog', '--k', '30']);
    expect(byText).toHaveLength(19);
    expectRanked(byText);
    const doc = byText.find((h) => h.id === 'doc-1')!;
    expect(doc).toMatchObject({ text: 'a white dog on the grass', year: 2021, kind: 'caption' });

    const query = join(folder, 'cir_query.png');
    const [self] = await search(where, ['--image', query, '--k', '1']);
    expect(self!.id).toBe(query);
    expect(self!.path).toBe(query);
    expect(self!.score).toBeCloseTo(1, 5);

    const composed = await search(where, ['--image', query, '--text', 'make the dog white', '--k', '5']);
    expect(composed).toHaveLength(5);
    expectRanked(composed);

    const like = await search(where, ['--like', query, '--k', '18']);
    expect(like).toHaveLength(18);
    expect(like.map((h) => h.id)).not.toContain(query);

    const filtered = await search(where, ['--text', 'a dog', '--k', '10', '--where', "year >= 2021 AND kind IN ('caption', 'pair')"]);
    expect(filtered.map((h) => h.id).sort()).toEqual(['doc-1', 'pair-1']);

    // a changed file is embedded again; the rest is not
    copyFileSync(join(IMAGES_DIR, 'wiki_candi_1.jpg'), query);
    const dry = await runCli(['index', folder, manifest, ...where, '--dry-run', '--quiet']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/would index .*: 0 new, 1 changed, 0 metadata updated, 18 unchanged, 0 removed, 0 rejected/);
    const second = await runCli(['index', folder, manifest, ...where, '--quiet']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/0 new, 1 changed, 0 metadata updated, 18 unchanged/);
    const [moved] = await search(where, ['--image', join(IMAGES_DIR, 'wiki_candi_1.jpg'), '--k', '1']);
    expect(moved!.id).toBe(query);

    // --sync removes what disappeared
    rmSync(join(folder, 'synth_tall_300x500.png'));
    const synced = await runCli(['index', folder, manifest, ...where, '--sync', '--quiet']);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stderr).toMatch(/0 new, 0 changed, 0 metadata updated, 18 unchanged, 1 removed/);
    expect(await search(where, ['--text', 'a dog', '--k', '30'])).toHaveLength(18);
  }, CLI_TIMEOUT);
});

describe('what vbge index refuses or rejects', () => {
  test('corrupt images, a non-image file and an over-long caption are rejected and reported; the rest is indexed', async () => {
    const folder = imageFolder(4);
    writeFileSync(join(folder, 'truncated.png'), Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'));
    writeFileSync(join(folder, 'notes.pdf'), '%PDF-1.4 not an image');
    copyFileSync(join(IMAGES_DIR, 'wiki_candi_1.jpg'), join(folder, 'long.jpg'));
    writeFileSync(join(folder, 'long.txt'), 'word '.repeat(5000));
    const dir = join(tempDir('rejects'), 'idx');
    const r = await runCli(['index', folder, '--index', dir, ...MODEL, '--caption-ext', '.txt', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/4 new, .* 3 rejected/);
    for (const name of ['truncated.png', 'notes.pdf', 'long.jpg']) expect(r.stderr).toContain(`rejected ${join(folder, name)}: `);
    expect(r.stderr).toMatch(/long\.jpg: text: .*limit/);
    const recorded = (await import('node:fs')).readFileSync(join(dir, 'rejects.jsonl'), 'utf8').trim().split('\n');
    expect(recorded.map((l) => (JSON.parse(l) as { source: string }).source).sort()).toEqual(['long.jpg', 'notes.pdf', 'truncated.png'].map((n) => join(folder, n)));
    const all = await search(['--index', dir], ['--text', 'x', '--k', '20']);
    expect(all).toHaveLength(4);
  }, CLI_TIMEOUT);

  test('searching or adding with another model is refused, saying what differs', async () => {
    const folder = imageFolder(2);
    const dir = join(tempDir('other-model'), 'idx');
    expect((await runCli(['index', folder, '--index', dir, ...MODEL, '--quiet'])).code).toBe(0);
    const other = modelArgs(fixtureModelFiles('tiny-xlmr'));
    const s = await runCli(['search', '--index', dir, ...other, '--text', 'a dog']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/was built with another model or preprocessing.*checkpointSha256 is [0-9a-f]{12}… in the index, [0-9a-f]{12}… in this model/);
    const add = await runCli(['index', folder, '--index', dir, ...other, '--quiet']);
    expect(add.code).toBe(2);
    expect(add.stderr).toMatch(/was built with another model/);
  }, CLI_TIMEOUT);

  test('usage errors fail before any model loads', async () => {
    const dir = join(tempDir('usage'), 'idx');
    expect((await runCli(['index', '/no/such/folder', '--index', dir, ...MODEL])).stderr).toMatch(/\/no\/such\/folder: no such file or folder/);
    expect((await runCli(['index', IMAGES_DIR, '--index', dir, '--store', 'postgres://x@127.0.0.1/db', ...MODEL])).stderr).toMatch(/not both/);
    expect((await runCli(['index', IMAGES_DIR, '--index', dir, '--shard', '4/3', ...MODEL])).stderr).toMatch(/--shard "4\/3"/);
    const s = await runCli(['search', '--index', dir, '--text', 'x']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/no index here/);
  }, CLI_TIMEOUT);
});
