/**
 * Parsed tokenizer descriptions (XLM-R's Unigram, BERT's WordPiece) are cached by the files'
 * fingerprint: a tokenizer built from the cached copy is the one built from tokenizer.json (same description, same pieces and ids for
 * every golden text), a damaged or foreign copy is ignored and replaced, edited files never meet
 * an old copy, and an unusable cache folder costs nothing but the speed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
/** The description copies in a cache folder (beside them, one fingerprint memo per tokenizer folder). */
const copies = (cache: string): string[] => readdirSync(cache).filter((f) => f.endsWith('.bin')).sort();
const memos = (cache: string): string[] => readdirSync(cache).filter((f) => f.endsWith('.files.json'));

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
    expect(copies(cache)).toEqual([`${parsed.fingerprint}.${layout}.bin`]);
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
    expect(copies(cache)).toEqual([`${after.fingerprint}.unigram.bin`, `${before.fingerprint}.unigram.bin`].sort());
  });

  // Whole-second mtimes set by the test: a file's own (nanoseconds, from a coarse clock) would
  // neither survive utimes exactly nor reliably differ between two writes in one test.
  const stampAt = (path: string, seconds: number): void => utimesSync(path, seconds, seconds);

  test('unchanged files are not read again: their fingerprint is remembered by size and mtime', async () => {
    const cache = cacheDir();
    const dir = tokenizerFolder('tiny-xlmr');
    const path = join(dir, 'tokenizer.json');
    stampAt(path, 1_700_000_000);
    const parsed = await readTokenizerDescription(dir, { cacheDir: cache });
    expect(memos(cache)).toHaveLength(1);
    // Same size, same mtime, other bytes: only a memo that skips reading returns the old description.
    writeFileSync(path, ' '.repeat(statSync(path).size));
    stampAt(path, 1_700_000_000);
    expect(await readTokenizerDescription(dir, { cacheDir: cache })).toEqual(parsed);
    // Without the cache, or once the mtime moves, the files are read: the blanked tokenizer.json fails to parse.
    await expect(readTokenizerDescription(dir)).rejects.toThrow(/tokenizer\.json/);
    stampAt(path, 1_700_000_001);
    await expect(readTokenizerDescription(dir, { cacheDir: cache })).rejects.toThrow(/tokenizer\.json/);
  });

  test('a remembered fingerprint follows the files: an edit, a removed or an added file', async () => {
    const cache = cacheDir();
    const dir = tokenizerFolder('tiny-xlmr');
    const tokenizerPath = join(dir, 'tokenizer.json');
    const mapPath = join(dir, 'special_tokens_map.json');
    stampAt(tokenizerPath, 1_700_000_000);
    const first = await readTokenizerDescription(dir, { cacheDir: cache });
    // A score one lower: the same length of JSON, so only the mtime tells.
    const tokenizer = JSON.parse(readFileSync(tokenizerPath, 'utf8')) as { model: { vocab: [string, number][] } };
    tokenizer.model.vocab[5]![1] -= 1;
    writeFileSync(tokenizerPath, JSON.stringify(tokenizer));
    stampAt(tokenizerPath, 1_700_000_001);
    const edited = await readTokenizerDescription(dir, { cacheDir: cache });
    expect(edited.fingerprint).not.toBe(first.fingerprint);
    expect(edited).toEqual(await readTokenizerDescription(dir));
    const map = readFileSync(mapPath);
    rmSync(mapPath);
    const removed = await readTokenizerDescription(dir, { cacheDir: cache });
    expect(removed.fingerprint).not.toBe(edited.fingerprint);
    expect(removed).toEqual(await readTokenizerDescription(dir));
    writeFileSync(mapPath, map);
    expect(await readTokenizerDescription(dir, { cacheDir: cache })).toEqual(edited);
    expect(memos(cache)).toHaveLength(1);
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
