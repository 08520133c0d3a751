/**
 * On ordinary text our slow-tokenizer port and the fast tokenizer.json (run by tokenizers.js)
 * must agree (spec §8: they differ only in rare cases). Where they differ is covered by the
 * parity tests; this guards against breaking the common case while fixing the rare ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/text/index.js';
import { fixtureDir, type FixtureSet } from '../helpers/fixtures.js';

const ORDINARY = [
  'a photo of a dog running on the beach',
  'A Red CAR parked next to the old building.',
  "the dog's ball, (blue) & green!? 100% [yes]",
  'Café naïve résumé',
  'une photo d\'un chat sur la table',
  'Ein Hund spielt im Park',
  '一只猫坐在桌子上 and 日本の猫の写真',
  'ＡＢＣ　１２３ ｄｏｇ',
  'two   spaces\tand\ttabs\nnewlines',
  'make the dog white; same scene, but at night!',
];

async function both(set: FixtureSet): Promise<[TextTokenizer, Tokenizer]> {
  const dir = join(fixtureDir(set), 'text');
  const fast = new Tokenizer(
    JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object,
    JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as object,
  );
  return [await TextTokenizer.fromDir(dir), fast];
}

describe.each(['tiny-bert', 'tiny-xlmr'] as const)('agreement with tokenizers.js on ordinary text (%s)', (set) => {
  it('gives the same ids for every sentence and for all of them joined', async () => {
    const [ours, fast] = await both(set);
    for (const text of [...ORDINARY, ORDINARY.join(' ')]) {
      expect(ours.encode(text), text).toEqual(fast.encode(text).ids);
    }
  });
});

describe('the known fast-tokenizer difference of the fixtures', () => {
  it('text-09 (trailing whitespace, XLM-R): fast appends "▁" (id 4) before </s>, slow does not', async () => {
    const [ours, fast] = await both('tiny-xlmr');
    const text = 'whitespace   ';
    const slow = ours.encode(text);
    expect(fast.encode(text).ids).toEqual([...slow.slice(0, -1), 4, 2]);
  });
});
