/** The full 250k-piece m3 text folder: slow to write, so in the slow group. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { readHfTextFolder } from '../../src/checkpoint/index.js';
import { TextTokenizer } from '../../src/text/index.js';
import { writeRandomTextFolder } from '../helpers/random-checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-random-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('random text folders at full size', () => {
  it('m3: XLM-R config + Unigram tokenizer with the real special ids', { timeout: 300_000 }, async () => {
    const d = join(dir, 'text-m3');
    writeRandomTextFolder('m3', d);
    const folder = readHfTextFolder(d);
    expect(folder.config).toMatchObject({
      model_type: 'xlm-roberta',
      hidden_size: 1024,
      num_hidden_layers: 24,
      num_attention_heads: 16,
      intermediate_size: 4096,
      layer_norm_eps: 1e-5,
      max_position_embeddings: 8194,
      type_vocab_size: 1,
      vocab_size: 250002,
      pad_token_id: 1,
      bos_token_id: 0,
      eos_token_id: 2,
    });
    const json = JSON.parse(readFileSync(folder.tokenizer.tokenizerJson!, 'utf8')) as {
      model: { vocab: [string, number][] };
    };
    expect(json.model.vocab.length).toBe(250002);
    expect(json.model.vocab.slice(0, 4).map((p) => p[0])).toEqual(['<s>', '<pad>', '</s>', '<unk>']);
    expect(json.model.vocab[250001]![0]).toBe('<mask>');
    expect(new Set(json.model.vocab.map((p) => p[0])).size).toBe(250002);
    const tok = new Tokenizer(json, JSON.parse(readFileSync(folder.tokenizer.tokenizerConfig!, 'utf8')));
    const ids = tok.encode('ba be 一').ids;
    expect(ids[0]).toBe(0);
    expect(ids[ids.length - 1]).toBe(2);
    expect(ids.length).toBeGreaterThan(2);
    expect(Math.max(...ids)).toBeLessThan(250002);
    expect((await TextTokenizer.fromDir(d)).encode('ba be 一')).toEqual(ids);
  });
});
