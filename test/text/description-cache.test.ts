/**
 * Parsed tokenizer descriptions (XLM-R's Unigram, BERT's WordPiece) are cached by the files'
 * fingerprint: a tokenizer built from the cached copy is the one built from tokenizer.json (same description, same pieces and ids for
 * every golden text), a damaged or foreign copy is ignored and replaced, edited files never meet
 * an old copy, and an unusable cache folder costs nothing but the speed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { readCachedDescription } from '../../src/text/description-cache.js';
import { TextTokenizer } from '../../src/text/index.js';
import { readTokenizerDescription } from '../../src/text/tokenizer-files.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { tokenizerFolder } from './temp-folder.js';

const golden = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'spm-golden.json'), 'utf8')) as { cases: { text: string }[] };
const TEXT = join(fixtureDir('tiny-xlmr'), 'text');
const dirs: string[] = [];
const cacheDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vbge-tok-cache-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const LAYOUTS = [
  { set: 'tiny-xlmr', layout: 'unigram' },
  { set: 'tiny-bert', layout: 'wordpiece' },
] as const;

describe('the tokenizer description cache', () => {
  test.each(LAYOUTS)('$set: the cached copy is the parsed description, and tokenizes every golden text the same', async ({ set, layout }) => {
    const dir = join(fixtureDir(set), 'text');
    const cache = cacheDir();
    const parsed = await readTokenizerDescription(dir);
    expect(readCachedDescription(cache, parsed.fingerprint)).toBeUndefined();
    expect(await readTokenizerDescription(dir, { cacheDir: cache })).toEqual(parsed); // parses, writes the copy
    expect(readdirSync(cache)).toEqual([`${parsed.fingerprint}.${layout}.bin`]);
    const copy = readCachedDescription(cache, parsed.fingerprint);
    expect(copy).toEqual(parsed);
    if (copy?.kind === 'bert' && parsed.kind === 'bert') expect([...copy.vocab]).toEqual([...parsed.vocab]); // same order too
    const fresh = await TextTokenizer.fromDir(dir);
    const cached = await TextTokenizer.fromDir(dir, { cacheDir: cache });
    expect(cached.fingerprint).toBe(fresh.fingerprint);
    for (const { text } of golden.cases) {
      expect(cached.tokens(text)).toEqual(fresh.tokens(text));
      expect(cached.encode(text)).toEqual(fresh.encode(text));
    }
  });

  test.each(LAYOUTS)('$set: a damaged, truncated or foreign copy is ignored and written again', async ({ set, layout }) => {
    const dir = join(fixtureDir(set), 'text');
    const cache = cacheDir();
    const parsed = await readTokenizerDescription(dir, { cacheDir: cache });
    const path = join(cache, `${parsed.fingerprint}.${layout}.bin`);
    const good = readFileSync(path);
    const damaged = [good.subarray(0, good.length - 3), Buffer.concat([Buffer.from('NOTMAGIC'), good.subarray(8)]), Buffer.from('{}'), Buffer.alloc(0)];
    const flipped = Buffer.from(good);
    flipped[20] = flipped[20]! ^ 0xff; // inside the JSON header
    damaged.push(flipped);
    for (const bytes of damaged) {
      writeFileSync(path, bytes);
      expect(readCachedDescription(cache, parsed.fingerprint)).toBeUndefined();
      expect(await readTokenizerDescription(dir, { cacheDir: cache })).toEqual(parsed);
      expect(readFileSync(path).equals(good)).toBe(true);
    }
  });

  test('edited tokenizer files get their own copy, never an old one', async () => {
    const cache = cacheDir();
    const before = await readTokenizerDescription(TEXT, { cacheDir: cache });
    const edited = tokenizerFolder('tiny-xlmr', ({ tokenizer }) => {
      const model = tokenizer['model'] as { vocab: [string, number][] };
      model.vocab[5] = [model.vocab[5]![0], model.vocab[5]![1] - 1];
    });
    const after = await readTokenizerDescription(edited, { cacheDir: cache });
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.kind === 'xlm-roberta' && after.pieces.scores[5]).toBe(before.kind === 'xlm-roberta' && before.pieces.scores[5]! - 1);
    expect(await readTokenizerDescription(edited, { cacheDir: cache })).toEqual(after);
    expect(readdirSync(cache).sort()).toEqual([`${after.fingerprint}.unigram.bin`, `${before.fingerprint}.unigram.bin`].sort());
  });

  test('a cache folder that cannot be used (a file in the way, under /proc) costs nothing but the speed', async () => {
    const parent = cacheDir();
    const blocked = join(parent, 'not-a-folder');
    writeFileSync(blocked, 'x');
    const parsed = await readTokenizerDescription(TEXT);
    for (const dir of [blocked, join(blocked, 'tokenizers'), '/proc/vbge-cache-test/tokenizers']) {
      expect(await readTokenizerDescription(TEXT, { cacheDir: dir })).toEqual(parsed);
    }
  });
});
