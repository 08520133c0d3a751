import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { Index } from '../../src/index/index.js';
import { IMAGES_DIR, type TestPostgres, loadTinyEncoder, startPostgres, tempDir } from './helpers.js';

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
