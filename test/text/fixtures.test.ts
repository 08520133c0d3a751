/**
 * Every token case of the golden fixtures (recorded with the slow Python tokenizers upstream uses):
 * ids must match exactly, and so must the pieces where the case lists them.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/text/index.js';
import { fixtureDir, loadCases, type BatchCase, type FixtureSet, type SingleCase } from '../helpers/fixtures.js';

const SETS: FixtureSet[] = ['tiny-bert', 'tiny-xlmr', 'tiny-bert-fp16'];

/** The fp16 set shares tiny-bert's text folder (its cases.json names it). */
function textDir(set: FixtureSet): string {
  return join(fixtureDir(set), loadCases(set).text_model_dir);
}

describe.each(SETS)('fixture cases of %s', (set) => {
  const cases = loadCases(set).cases;
  let tok: TextTokenizer;
  beforeAll(async () => {
    tok = await TextTokenizer.fromDir(textDir(set));
  });

  const singles = cases.filter((c): c is SingleCase => c.batch !== true);
  it.each(singles.map((c) => [c.id, c] as const))('%s: ids (and pieces) equal upstream', (_id, c) => {
    // Image-only cases tokenise the empty prompt (encode_image builds [""]).
    const text = c.text ?? '';
    expect(tok.encode(text)).toEqual(c.input_ids);
    if (c.tokens !== undefined) expect(tok.tokens(text)).toEqual(c.tokens);
  });

  const batches = cases.filter((c): c is BatchCase => c.batch === true && Array.isArray(c.texts));
  it.each(batches.map((c) => [c.id, c] as const))('%s: each row equals its unpadded ids', (_id, c) => {
    const texts = c.texts!;
    expect(texts.length).toBe(c.input_ids.length);
    texts.forEach((text, row) => {
      const mask = c.attention_mask[row]!;
      const unpadded = c.input_ids[row]!.filter((_, i) => mask[i] === 1);
      expect(tok.encode(text ?? '')).toEqual(unpadded);
      // Right padding with the pad id only (spec §5.5).
      expect(c.input_ids[row]!.slice(unpadded.length).every((id) => id === tok.padId)).toBe(true);
    });
  });
});

describe('special ids and kind', () => {
  it('reads BERT ids from the fixture folder', async () => {
    const tok = await TextTokenizer.fromDir(textDir('tiny-bert'));
    expect([tok.kind, tok.clsId, tok.sepId, tok.padId]).toEqual(['bert', 2, 3, 0]);
    expect(tok.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
  it('reads XLM-R ids from the fixture folder', async () => {
    const tok = await TextTokenizer.fromDir(textDir('tiny-xlmr'));
    expect([tok.kind, tok.clsId, tok.sepId, tok.padId]).toEqual(['xlm-roberta', 0, 2, 1]);
  });
  it('fingerprints differ between tokenizers and are stable', async () => {
    const a = await TextTokenizer.fromDir(textDir('tiny-bert'));
    const b = await TextTokenizer.fromDir(textDir('tiny-xlmr'));
    const a2 = await TextTokenizer.fromDir(textDir('tiny-bert-fp16'));
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(a2.fingerprint).toBe(a.fingerprint);
  });
});
