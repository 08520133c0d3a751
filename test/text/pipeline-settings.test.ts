/** tokenizer.json settings we do not implement are refused by name, never ignored. */
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import { TextTokenizer } from '../../src/text/index.js';
import { removeTemporaryFolders, tokenizerFolder, type JsonObject } from './temp-folder.js';

afterAll(removeTemporaryFolders);

async function refusal(dir: string): Promise<CheckpointError> {
  const err = await TextTokenizer.fromDir(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CheckpointError);
  return err as CheckpointError;
}

const charsmapOf = (t: JsonObject): JsonObject => ((t['normalizer'] as { normalizers: JsonObject[] }).normalizers[0]!);

describe('XLM-R (Unigram) tokenizer.json', () => {
  it('refuses an NFKC normalizer (the one the old random m3 folder declared), naming it', async () => {
    const dir = tokenizerFolder('tiny-xlmr', ({ tokenizer }) => {
      tokenizer['normalizer'] = { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
    });
    const err = await refusal(dir);
    expect(err.message).toMatch(/tokenizer\.json: tokenizer\.json's normalizer Sequence\["NFKC", "Replace"\] is not implemented \(supported for Unigram models: Precompiled/);
  });

  it('accepts the Precompiled charsmap alone or followed by the space-collapsing Replace', async () => {
    const alone = tokenizerFolder('tiny-xlmr', ({ tokenizer }) => {
      tokenizer['normalizer'] = charsmapOf(tokenizer);
    });
    const withReplace = tokenizerFolder('tiny-xlmr');
    const [a, b] = await Promise.all([TextTokenizer.fromDir(alone), TextTokenizer.fromDir(withReplace)]);
    expect(a.encode('x²  y')).toEqual(b.encode('x²  y'));
  });

  it('refuses a missing normalizer, another pre-tokenizer and a Metaspace that does not prepend', async () => {
    for (const [setting, value, named] of [
      ['normalizer', null, "normalizer null"],
      ['pre_tokenizer', { type: 'Whitespace' }, 'pre_tokenizer "Whitespace"'],
      ['pre_tokenizer', { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: true }, 'pre_tokenizer "Metaspace"'],
    ] as const) {
      const err = await refusal(tokenizerFolder('tiny-xlmr', ({ tokenizer }) => void (tokenizer[setting] = value)));
      expect(err.message).toContain(`tokenizer.json's ${named} is not implemented`);
    }
  });

  it('refuses a post-processor that does not add <s> and </s>', async () => {
    const err = await refusal(tokenizerFolder('tiny-xlmr', ({ tokenizer }) => void (tokenizer['post_processor'] = null)));
    expect(err.message).toContain("tokenizer.json's post_processor null is not implemented (supported for Unigram models: TemplateProcessing \"<s> $A </s>\"");
  });
});

describe('BERT (WordPiece) tokenizer.json', () => {
  it('refuses a normalizer other than BertNormalizer, and BertNormalizer without clean_text', async () => {
    for (const [value, named] of [
      [{ type: 'Lowercase' }, 'normalizer "Lowercase"'],
      [{ type: 'BertNormalizer', clean_text: false, handle_chinese_chars: true, strip_accents: null, lowercase: true }, 'normalizer "BertNormalizer"'],
    ] as const) {
      const err = await refusal(tokenizerFolder('tiny-bert', ({ tokenizer }) => void (tokenizer['normalizer'] = value)));
      expect(err.message).toContain(`tokenizer.json's ${named} is not implemented (supported for WordPiece models: BertNormalizer with clean_text)`);
    }
  });

  it('refuses a template whose special tokens are not the [CLS] and [SEP] ids', async () => {
    const err = await refusal(
      tokenizerFolder('tiny-bert', ({ tokenizer }) => {
        const post = tokenizer['post_processor'] as { special_tokens: Record<string, { ids: number[] }> };
        post.special_tokens['[CLS]']!.ids = [0];
      }),
    );
    expect(err.message).toContain("post_processor \"TemplateProcessing\" is not implemented");
  });

  it('accepts BertProcessing with the same ids', async () => {
    const dir = tokenizerFolder('tiny-bert', ({ tokenizer }) => {
      tokenizer['post_processor'] = { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
    });
    const t = await TextTokenizer.fromDir(dir);
    expect(t.clsId).toBe(2);
  });
});
