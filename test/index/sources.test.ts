import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { contentKey, parseShard, shardOf, storedKey } from '../../src/index/content-key.js';
import { type PendingItem, countSources, readSources } from '../../src/index/sources.js';
import { tempDir } from './helpers.js';

async function collect(paths: string[], options = {}): Promise<PendingItem[]> {
  const out: PendingItem[] = [];
  for await (const item of readSources(paths, options)) out.push(item);
  return out;
}

describe('what vbge index reads', () => {
  test('folders: recursive, byte-ordered, hidden entries and caption sidecars skipped, file links followed, folder links not, the index folder skipped', async () => {
    const root = tempDir('walk');
    const photos = join(root, 'photos');
    mkdirSync(join(photos, 'b'), { recursive: true });
    mkdirSync(join(photos, '.cache'));
    mkdirSync(join(photos, 'vbge-index'));
    for (const f of ['Z.jpg', 'a.png', 'a.txt', 'b/c.gif', '.hidden.jpg', '.cache/x.jpg', 'vbge-index/items.lance']) writeFileSync(join(photos, f), f);
    writeFileSync(join(root, 'outside.jpg'), 'x');
    symlinkSync(join(root, 'outside.jpg'), join(photos, 'link.jpg'));
    symlinkSync(photos, join(photos, 'b', 'loop')); // a cycle, never followed
    const options = { captionExt: 'txt', skip: [join(photos, 'vbge-index')] };
    const items = await collect([photos], options);
    expect(items.map((i) => i.id)).toEqual(['Z.jpg', 'a.png', 'b/c.gif', 'link.jpg'].map((f) => join(photos, f)));
    expect(items[1]!.captionPath).toBe(join(photos, 'a.txt'));
    expect(await countSources([photos], options)).toBe(4);
  });

  test('manifests: ids, composed lines, paths relative to the manifest, metadata, and a reason for every bad line', async () => {
    const dir = tempDir('manifest');
    const manifest = join(dir, 'm.jsonl');
    writeFileSync(
      manifest,
      [
        JSON.stringify({ id: 'x', image: 'img/a.png', text: 'caption', year: 2020, tags: ['a'] }),
        JSON.stringify({ text: 'no id' }),
        JSON.stringify({ image: 'img/b.png' }),
        JSON.stringify({ id: 7, text: 'numeric id' }),
        '',
        '{not json',
        '[1, 2]',
        JSON.stringify({ id: 1.5, text: 'x' }),
        JSON.stringify({ id: 'y', image: 3 }),
        JSON.stringify({ id: 'z', year: 1 }),
      ].join('\n'),
    );
    const items = await collect([manifest]);
    expect(items).toHaveLength(9); // the blank line is skipped
    expect(items[0]).toMatchObject({ id: 'x', imagePath: join(dir, 'img/a.png'), text: 'caption', metadata: { year: 2020, tags: ['a'] } });
    expect(items[1]!.id).toBeUndefined(); // the content key becomes its id
    expect(items[2]).toMatchObject({ id: 'img/b.png', imagePath: join(dir, 'img/b.png') });
    expect(items[3]!.id).toBe('7');
    expect(items.slice(4).map((i) => i.error)).toEqual([
      expect.stringMatching(/^not valid JSON/),
      'must be a JSON object',
      '"id" must be a string or a safe integer',
      '"image" must be a file path string',
      'has neither "image" nor "text"',
    ]);
    expect(items[5]!.source).toMatch(/m\.jsonl:7$/);
    expect(await countSources([manifest])).toBe(9);
  });

  test('a missing path is an item with a reason, not a crash', async () => {
    const [item] = await collect(['/no/such/file.jpg']);
    expect(item!.error).toMatch(/cannot read: ENOENT/);
  });
});

describe('content keys and shards', () => {
  test('keys change with content only; the info part with path and metadata', () => {
    const image = new Uint8Array([1, 2, 3]);
    const a = contentKey(image, 'x');
    expect(contentKey(new Uint8Array([1, 2, 3]), 'x')).toBe(a);
    expect(contentKey(image, 'y')).not.toBe(a);
    expect(contentKey(image, undefined)).not.toBe(contentKey(image, ''));
    expect(contentKey(undefined, 'x')).not.toBe(a);
    expect(storedKey(a, '/p', { k: 1 }).startsWith(`${a}.`)).toBe(true);
    expect(storedKey(a, '/p', { k: 1 })).toBe(storedKey(a, '/p', { k: 1 }));
    expect(storedKey(a, '/p', { k: 2 })).not.toBe(storedKey(a, '/p', { k: 1 }));
  });

  test('shards split keys evenly and every key lands in exactly one', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[shardOf(contentKey(undefined, `item ${i}`), 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(parseShard('2/3')).toEqual({ index: 1, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1-3']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });
});
