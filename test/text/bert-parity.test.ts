/**
 * BERT (bge-base style) parity with the slow BertTokenizer beyond the fixture cases. Expected
 * outputs are derived from the slow tokenizer's rules (spec §8.1 and transformers'
 * `PreTrainedTokenizer.tokenize` / `BasicTokenizer` / `WordpieceTokenizer`); no Python
 * transformers was available to record them, so each expectation names the rule it follows.
 * Where the fast tokenizer.json (as tokenizers.js runs it) differs, the comment says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/text/index.js';
import { join } from 'node:path';
import { fixtureDir } from '../helpers/fixtures.js';
import { addWordPieces, removeTemporaryFolders, tokenizerFolder } from './temp-folder.js';

let tiny: TextTokenizer;
/** tiny-bert plus pieces that make the divergences visible. */
let rich: TextTokenizer;

beforeAll(async () => {
  tiny = await TextTokenizer.fromDir(join(fixtureDir('tiny-bert'), 'text'));
  rich = await TextTokenizer.fromDir(
    tokenizerFolder('tiny-bert', ({ tokenizer }) =>
      addWordPieces(tokenizer, ['οδοσ', 'οδος', 'σ', 'ς', '𠀀', '𠀁', '##𠀁', '🐱', '##🐱', 'ﬁ', '¡', '«', '»', '¦', 'ab', 'café']),
    ),
  );
});
afterAll(removeTemporaryFolders);

describe('special-token strings inside the text (quirk Q19)', () => {
  it('a literal [SEP] or [MASK] becomes its special id', () => {
    // transformers splits on special tokens before BasicTokenizer: "[SEP]" → id 3 (tiny vocab).
    expect(tiny.encode('dog [SEP] cat')).toEqual([2, 139, 3, 140, 3]);
    expect(tiny.encode('dog[MASK]cat')).toEqual([2, 139, 4, 140, 3]);
    expect(tiny.tokens('a[CLS][PAD][UNK]')).toEqual(['a', '[CLS]', '[PAD]', '[UNK]']);
    expect(tiny.encode('[SEP]')).toEqual([2, 3, 3]);
  });

  it('matching is case-sensitive and special tokens are not lower-cased', () => {
    // "[sep]" is plain text: punctuation split + WordPiece.
    expect(tiny.tokens('[sep]')).toEqual(['[', 's', '##e', '##p', ']']);
    expect(tiny.tokens('[Sep]')).toEqual(['[', 's', '##e', '##p', ']']);
  });
});

describe('BasicTokenizer cleaning', () => {
  it('drops format/control characters (U+200B, U+00AD, NUL, U+0085, U+FFFD), joining the word', () => {
    expect(tiny.tokens('dog\u200bcat')).toEqual(['dog', '##c', '##a', '##t']);
    expect(tiny.tokens('d\u00adog')).toEqual(['dog']);
    expect(tiny.tokens('d\u0000o\u0085g\ufffd')).toEqual(['dog']);
  });

  it('maps NBSP and other Zs spaces, tab and newline to a space', () => {
    for (const space of ['\u00a0', '\u2009', '\u3000', '\t', '\r\n']) {
      expect(tiny.tokens(`dog${space}cat`)).toEqual(['dog', 'cat']);
    }
  });

  it('splits words at U+2028/U+2029 (kept by cleaning, then Python str.split())', () => {
    expect(tiny.tokens('dog\u2028cat\u2029dog')).toEqual(['dog', 'cat', 'dog']);
  });

  it('drops unassigned code points (category Cn counts as control in Python) — fast keeps them', () => {
    // tokenizers.js: 'd\u0378og' is one word without a vocab match → [UNK].
    expect(tiny.tokens('d\u0378og')).toEqual(['dog']);
    expect(tiny.tokens('dog\u{E0080}')).toEqual(['dog']);
  });

  it('drops unpaired surrogates (category Cs) instead of failing', () => {
    expect(tiny.tokens('do\uD800g')).toEqual(['dog']);
  });
});

describe('CJK, case and accents', () => {
  it('spaces astral CJK ideographs too (tested on code points) — fast does not', () => {
    // tokenizers.js tests UTF-16 units: "𠀀𠀁" stays one word → ['𠀀', '##𠀁'].
    expect(rich.tokens('𠀀𠀁')).toEqual(['𠀀', '𠀁']);
    expect(tiny.tokens('猫狗')).toEqual(['猫', '狗']);
  });

  it('lower-cases one character at a time: final Σ → σ, not ς — fast gives ς', () => {
    expect(rich.tokens('ΟΔΟΣ')).toEqual(['οδοσ']);
    expect(rich.tokens('Σ')).toEqual(['σ']);
  });

  it('strips accents after NFD (combining marks, category Mn)', () => {
    expect(tiny.tokens('CAFÉ Cafe\u0301 naïve')).toEqual(['cafe', 'cafe', 'naive']);
    // İ lower-cases to "i" + U+0307 (Mn), which is stripped.
    expect(tiny.tokens('İ')).toEqual(['i']);
  });

  it('does not apply NFKC: ligatures and fullwidth letters stay themselves', () => {
    expect(rich.tokens('ﬁ')).toEqual(['ﬁ']);
    expect(tiny.tokens('ｄｏｇ')).toEqual(['[UNK]']);
  });
});

describe('punctuation', () => {
  it('splits ASCII symbols and Unicode P* characters, not other symbols', () => {
    expect(tiny.tokens('dog$cat^a`b')).toEqual(['dog', '$', 'cat', '^', 'a', '`', 'b']);
    expect(rich.tokens('¡dog«cat»')).toEqual(['¡', 'dog', '«', 'cat', '»']);
    // U+00A6 is So (a symbol), not punctuation: stays inside the word.
    expect(rich.tokens('a¦b')).toEqual(['[UNK]']);
  });
});

describe('WordPiece', () => {
  it('a word of more than 100 code points is [UNK]; 100 are split normally', () => {
    expect(tiny.tokens('a'.repeat(100))).toEqual(['a', ...Array<string>(99).fill('##a')]);
    expect(tiny.tokens('a'.repeat(101))).toEqual(['[UNK]']);
  });

  it('counts code points, not UTF-16 units (100 astral characters are 200 units)', () => {
    expect(rich.tokens('🐱'.repeat(100))).toEqual(['🐱', ...Array<string>(99).fill('##🐱')]);
    expect(rich.tokens('🐱'.repeat(101))).toEqual(['[UNK]']);
  });

  it('a word that cannot be matched completely is one [UNK]', () => {
    expect(tiny.tokens('dog🐱cat')).toEqual(['[UNK]']);
    expect(tiny.encode('dog🐱cat x')).toEqual([2, 1, 70, 3]);
  });
});

describe('tokenizer_config.json options are honoured', () => {
  it('do_lower_case false keeps case and accents, and applies NFC first', async () => {
    const cased = await TextTokenizer.fromDir(
      tokenizerFolder('tiny-bert', ({ tokenizer, config }) => {
        addWordPieces(tokenizer, ['Café', 'Dog']);
        config['do_lower_case'] = false;
      }),
    );
    // "Cafe" + U+0301 composes (NFC) to "Café", which is in the vocab.
    expect(cased.tokens('Cafe\u0301 Dog dog')).toEqual(['Café', 'Dog', 'dog']);
    expect(cased.tokens('DOG')).toEqual(['[UNK]']);
  });

  it('tokenize_chinese_chars false keeps ideographs inside words', async () => {
    const noCjk = await TextTokenizer.fromDir(
      tokenizerFolder('tiny-bert', ({ config }) => {
        config['tokenize_chinese_chars'] = false;
      }),
    );
    expect(noCjk.tokens('猫狗')).toEqual(['[UNK]']);
    expect(noCjk.tokens('猫 狗')).toEqual(['猫', '狗']);
  });
});
