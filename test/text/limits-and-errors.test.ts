/** Length policy (error or truncation), input validation and broken tokenizer folders. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, InputError, LimitError } from '../../src/errors.js';
import { TextTokenizer } from '../../src/text/index.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { removeTemporaryFolders, tokenizerFolder } from './temp-folder.js';

let bert: TextTokenizer;
let xlmr: TextTokenizer;
beforeAll(async () => {
  bert = await TextTokenizer.fromDir(join(fixtureDir('tiny-bert'), 'text'));
  xlmr = await TextTokenizer.fromDir(join(fixtureDir('tiny-xlmr'), 'text'));
});
afterAll(removeTemporaryFolders);

const SIX_WORDS = 'dog cat dog cat dog cat';

describe('maxTokens without truncation', () => {
  it('accepts a text that fits exactly', () => {
    expect(bert.encode(SIX_WORDS, { maxTokens: 8 })).toHaveLength(8);
  });

  it('throws a LimitError naming the input, the token count and the limit', () => {
    let err: unknown;
    try {
      bert.encode(SIX_WORDS, { maxTokens: 7, inputName: 'input 3 (text)' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitError);
    const limit = err as LimitError;
    expect(limit).toBeInstanceOf(InputError);
    expect(limit.input).toBe('input 3 (text)');
    expect(limit.limitName).toBe('tokens');
    expect(limit.actual).toBe(8);
    expect(limit.limit).toBe(7);
    expect(limit.message).toMatch(/^input 3 \(text\): tokens is 8, the limit is 7 \(6 text tokens plus \[CLS\] and \[SEP\]/);
  });

  it('names XLM-R special tokens in the message and defaults the input name to "text"', () => {
    expect(() => xlmr.encode(SIX_WORDS, { maxTokens: 3 })).toThrow(/^text: tokens is 8, the limit is 3 \(6 text tokens plus <s> and <\/s>/);
  });

  it('counts literal special tokens in the text like any other token', () => {
    expect(() => bert.encode('dog [SEP] cat', { maxTokens: 4 })).toThrow(LimitError);
  });
});

describe('truncate: true', () => {
  it.each([2, 3, 5, 7])('keeps CLS first and SEP last with exactly maxTokens=%i ids', (maxTokens) => {
    const full = bert.encode(SIX_WORDS);
    const ids = bert.encode(SIX_WORDS, { maxTokens, truncate: true });
    expect(ids).toHaveLength(maxTokens);
    expect(ids[0]).toBe(bert.clsId);
    expect(ids[ids.length - 1]).toBe(bert.sepId);
    expect(ids.slice(1, -1)).toEqual(full.slice(1, maxTokens - 1));
  });

  it('works the same for XLM-R', () => {
    expect(xlmr.encode(SIX_WORDS, { maxTokens: 4, truncate: true })).toEqual([0, 46, 93, 2]);
  });

  it('leaves texts that fit unchanged', () => {
    expect(bert.encode('dog', { maxTokens: 512, truncate: true })).toEqual([2, 139, 3]);
  });
});

describe('invalid options and inputs', () => {
  it.each([1, 0, -5, 2.5, Number.NaN])('maxTokens %s is a ConfigError', (maxTokens) => {
    expect(() => bert.encode('dog', { maxTokens })).toThrow(ConfigError);
    expect(() => bert.encode('dog', { maxTokens, truncate: true })).toThrow(/maxTokens must be an integer of at least 2/);
  });

  it.each([null, undefined, 42, ['dog'], { text: 'dog' }])('text %j is an InputError naming the input', (text) => {
    expect(() => bert.encode(text as unknown as string, { inputName: 'input 7 (text)' })).toThrow(InputError);
    expect(() => xlmr.encode(text as unknown as string, { inputName: 'input 7 (text)' })).toThrow(
      /^input 7 \(text\): text must be a string/,
    );
    expect(() => bert.tokens(text as unknown as string)).toThrow(InputError);
  });
});

describe('broken tokenizer folders', () => {
  const dirs: string[] = [];
  const emptyDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'vbge-text-bad-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('a missing tokenizer.json is a CheckpointError naming the file', async () => {
    const dir = emptyDir();
    const err = await TextTokenizer.fromDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(join(dir, 'tokenizer.json'));
    expect((err as Error).message).toMatch(/not found/);
  });

  it('a missing folder is a CheckpointError too', async () => {
    await expect(TextTokenizer.fromDir(join(emptyDir(), 'nope'))).rejects.toThrow(CheckpointError);
  });

  it('corrupt JSON is a CheckpointError naming the file', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": {"type": "WordPiece", ');
    const err = await TextTokenizer.fromDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(join(dir, 'tokenizer.json'));
    expect((err as Error).message).toMatch(/not valid JSON/);
  });

  it('a corrupt tokenizer_config.json is named as such', async () => {
    const dir = tokenizerFolder('tiny-bert');
    writeFileSync(join(dir, 'tokenizer_config.json'), 'not json');
    await expect(TextTokenizer.fromDir(dir)).rejects.toThrow(/tokenizer_config\.json: not valid JSON/);
  });

  it('an unsupported model type is a CheckpointError', async () => {
    const dir = tokenizerFolder('tiny-bert', ({ tokenizer }) => {
      (tokenizer['model'] as Record<string, unknown>)['type'] = 'BPE';
    });
    await expect(TextTokenizer.fromDir(dir)).rejects.toThrow(/unsupported model type "BPE"/);
  });

  it('a Unigram vocab with a broken entry is a CheckpointError', async () => {
    const dir = tokenizerFolder('tiny-xlmr', ({ tokenizer }) => {
      ((tokenizer['model'] as Record<string, unknown>)['vocab'] as unknown[])[7] = 'oops';
    });
    await expect(TextTokenizer.fromDir(dir)).rejects.toThrow(/Unigram vocab entry 7 is not \[piece, score\]/);
  });

  it('config.json model_type must agree with the tokenizer model', async () => {
    const dir = tokenizerFolder('tiny-bert', ({ modelConfig }) => {
      modelConfig['model_type'] = 'xlm-roberta';
    });
    const err = await TextTokenizer.fromDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).file).toBe(join(dir, 'config.json'));
  });

  it('a CLS token missing from the vocabulary is a CheckpointError', async () => {
    const dir = tokenizerFolder('tiny-bert', ({ tokenizer }) => {
      tokenizer['added_tokens'] = [];
      delete (tokenizer['model'] as { vocab: Record<string, number> }).vocab['[CLS]'];
    });
    await expect(TextTokenizer.fromDir(dir)).rejects.toThrow(/cls_token "\[CLS\]" is not in the vocabulary/);
  });

  it('a corrupt precompiled_charsmap is a CheckpointError', async () => {
    const dir = tokenizerFolder('tiny-xlmr', ({ tokenizer }) => {
      const seq = tokenizer['normalizer'] as { normalizers: Record<string, unknown>[] };
      seq.normalizers[0]!['precompiled_charsmap'] = Buffer.from([255, 255, 0, 0, 1, 2]).toString('base64');
    });
    await expect(TextTokenizer.fromDir(dir)).rejects.toThrow(/invalid precompiled_charsmap/);
  });
});
