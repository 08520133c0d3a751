import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { Index } from '../../src/index/index.js';
import { IMAGES_DIR, MODEL_FILES, type TestPostgres, loadTinyEncoder, startPostgres, tempDir } from './helpers.js';

let encoder: Encoder;
let postgres: TestPostgres;
beforeAll(async () => {
  encoder = await loadTinyEncoder();
  postgres = await startPostgres();
});
afterAll(async () => {
  await encoder.close();
  await postgres.close();
});

const STORES = [
  ['LanceDB', () => join(tempDir('lance'), 'idx')],
  ['Postgres', () => postgres.url('library_api')],
] as const;

describe.each(STORES)('Index on %s', (_name, location) => {
  test('add, search by text, image, composed and id; filters; delete', async () => {
    const index = await Index.open({ location: location(), encoder, create: true });
    const names = readdirSync(IMAGES_DIR).sort();
    const items = names.map((name, i) => ({ image: join(IMAGES_DIR, name), id: name, metadata: { n: i, kind: name.startsWith('synth') ? 'synth' : 'real' } }));
    const added = await index.add([...items, { id: 'caption', text: 'a dog on the grass' }]);
    expect(added.added).toBe(names.length + 1);
    expect(added.rejects).toEqual([]);

    // an image query finds itself first, with score ≈ 1
    const [self] = await index.search({ image: join(IMAGES_DIR, 'cir_query.png') }, { k: 1 });
    expect(self!.id).toBe('cir_query.png');
    expect(self!.score).toBeCloseTo(1, 5);
    // the score is the cosine of the library's vectors
    const [q, c] = await encoder.encode([{ text: 'a dog' }, { image: join(IMAGES_DIR, 'cir_candi_1.png') }]);
    const hits = await index.search({ text: 'a dog' }, { k: 100 });
    expect(hits).toHaveLength(names.length + 1);
    const hit = hits.find((h) => h.id === 'cir_candi_1.png')!;
    let dot = 0;
    for (let i = 0; i < q!.length; i++) dot += q![i]! * c![i]!;
    expect(hit.score).toBeCloseTo(dot, 5);
    // best first, ties by id
    for (let i = 1; i < hits.length; i++) {
      const a = hits[i - 1]!;
      const b = hits[i]!;
      expect(a.score > b.score || (a.score === b.score && a.id < b.id)).toBe(true);
    }
    const composed = await index.search({ image: join(IMAGES_DIR, 'cir_query.png'), text: 'make it white' }, { k: 3 });
    expect(composed).toHaveLength(3);

    const like = await index.search({ id: 'cir_query.png' }, { k: 5 });
    expect(like.map((h) => h.id)).not.toContain('cir_query.png');

    const synth = await index.search({ text: 'a dog' }, { k: 100, where: "kind = 'synth' AND n >= 5" });
    expect(synth.length).toBeGreaterThan(0);
    expect(synth.every((h) => h.metadata['kind'] === 'synth' && (h.metadata['n'] as number) >= 5)).toBe(true);

    expect(await index.delete(['cir_query.png'])).toBe(1);
    const after = await index.search({ text: 'a dog' }, { k: 100 });
    expect(after.map((h) => h.id)).not.toContain('cir_query.png');
    expect((await index.stats()).items).toBe(names.length);
    await index.close();
  });
});

describe('one ranking on every store', () => {
  test('the same items and query give the same ids and bitwise equal scores on LanceDB and Postgres, exact and ANN, with and without a filter', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ id: `t${i}`, text: `item ${i}: a ${['dog', 'cat', 'car', 'tree', 'boat'][i % 5]} number ${i % 13}`, metadata: { group: i % 3, even: i % 2 === 0 } }));
    const lance = await Index.open({ location: join(tempDir('same'), 'idx'), encoder, create: true });
    const pg = await Index.open({ location: postgres.url('same_ranking'), encoder, create: true });
    expect((await lance.add(items)).added).toBe(300);
    expect((await pg.add(items)).added).toBe(300);
    const query = { text: 'a dog' };
    const options = [{ k: 20 }, { k: 20, where: 'group = 1 AND even = true' }, { k: 5, offset: 5 }] as const;
    const exact = [];
    for (const o of options) {
      const a = await lance.search(query, o);
      const b = await pg.search(query, o);
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
      exact.push(a);
    }
    // ANN indexes: IVF-PQ (LanceDB, ≥ 256 items) and HNSW (pgvector); candidates are re-scored
    // exactly, so what they return carries the exact scores, and filters still hold.
    expect(await lance.buildAnn()).toBe(true);
    expect(await pg.buildAnn()).toBe(true);
    expect((await lance.stats()).ann).toBe(true);
    for (const [i, o] of options.entries()) {
      for (const index of [lance, pg]) {
        const approx = await index.search(query, { ...o, ann: true });
        const byId = new Map(exact[i]!.map((h) => [h.id, h.score]));
        const overlap = approx.filter((h) => byId.has(h.id));
        expect(overlap.length / exact[i]!.length).toBeGreaterThanOrEqual(0.6);
        for (const h of overlap) expect(h.score).toBe(byId.get(h.id));
        if ('where' in o) expect(approx.every((h) => h.metadata['group'] === 1 && h.metadata['even'] === true)).toBe(true);
      }
    }
    await lance.close();
    await pg.close();
  });

  test('bad queries and options are refused with errors that name them', async () => {
    const index = await Index.open({ location: join(tempDir('bad'), 'idx'), encoder, create: true });
    await index.add([{ id: 'a', text: 'a' }]);
    await expect(index.search({ id: 'missing' })).rejects.toThrow(/query \{ id: "missing" \}: no item with this id/);
    await expect(index.search({ text: 'a' }, { where: "kind = 'x" })).rejects.toThrow(/--where .*unterminated string/);
    await expect(index.search({ text: 'a' }, { k: 5000 })).rejects.toThrow(/k \+ offset: is 5000; the limit is 1000/);
    await expect(index.searchVector(new Float32Array(3))).rejects.toThrow(/query vector: must be a Float32Array of \d+ values/);
    await expect(Index.open({ location: join(tempDir('none'), 'idx') })).rejects.toThrow(/no index here/);
    await index.close();
  });
});

describe('provenance', () => {
  test('an encoder that applies EXIF orientation cannot add to or search an index built without it', async () => {
    const location = join(tempDir('exif'), 'idx');
    const index = await Index.open({ location, encoder, create: true });
    await index.close();
    const rotating = await Encoder.load({ ...MODEL_FILES, graphCache: false, threads: 1, imageWorkers: 0, applyExifOrientation: true });
    try {
      expect((await rotating.provenance()).preprocessing).toMatch(/\+exif-orientation$/);
      await expect(Index.open({ location, encoder: rotating })).rejects.toThrow(/another model or preprocessing.*preprocessing is .* in the index, .*\+exif-orientation in this model/);
    } finally {
      await rotating.close();
    }
  });
});
