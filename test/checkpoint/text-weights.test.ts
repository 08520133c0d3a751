import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fixtureDir, type FixtureSet } from '../helpers/fixtures.js';
import {
  loadVisualizedWeights,
  mapHfTextWeights,
  openCheckpoint,
  readHfTextFolder,
  readSafetensors,
  visualizedKeyForHfKey,
} from '../../src/checkpoint/index.js';

const SETS: [FixtureSet, string][] = [
  ['tiny-bert', 'Visualized_tiny-bert.pth'],
  ['tiny-xlmr', 'Visualized_tiny-xlmr.pth'],
];

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe.each(SETS)('%s text weights', (set, pthName) => {
  const pth = join(fixtureDir(set), pthName);
  const text = join(fixtureDir(set), 'text');

  it.each(['model.safetensors', 'pytorch_model.bin'])('%s: mapped bge_* tensors equal the .pth bytes', (file) => {
    const raw = openCheckpoint(join(text, file));
    expect(raw.has('embeddings.position_ids')).toBe(true);
    expect(raw.stored('embeddings.position_ids').dtype).toBe('int64');
    const mapped = mapHfTextWeights(raw);
    expect(mapped.allKeys().some((k) => k.includes('position_ids'))).toBe(false);
    const w = openCheckpoint(pth);
    const bgeKeys = w.allKeys().filter((k) => k.startsWith('bge_'));
    expect(new Set(mapped.allKeys())).toEqual(new Set(bgeKeys));
    for (const key of bgeKeys) {
      const a = mapped.stored(key);
      const b = w.stored(key);
      expect(a.shape, key).toEqual(b.shape);
      expect(a.dtype).toBe('float32');
      expect(sameBytes(a.read(), b.read()), key).toBe(true);
    }
  });

  it('position_ids holds 0..max_pos-1 as int64 (the buffer is read faithfully)', () => {
    const t = openCheckpoint(join(text, 'model.safetensors')).get('embeddings.position_ids');
    expect(t.shape[0]).toBe(1);
    expect(Array.from(t.data.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(t.data[t.data.length - 1]).toBe(t.data.length - 1);
  });

  it('loadVisualizedWeights({textWeights}) accepts the folder or a file and keeps key order', () => {
    const base = loadVisualizedWeights(pth);
    for (const tw of [text, join(text, 'pytorch_model.bin'), join(text, 'model.safetensors')]) {
      const w = loadVisualizedWeights(pth, { textWeights: tw });
      expect(w.allKeys()).toEqual(base.allKeys());
      for (const key of w.allKeys()) expect(sameBytes(w.stored(key).read(), base.stored(key).read()), key).toBe(true);
    }
    const folder = readHfTextFolder(text);
    expect(folder.weights).toBe(join(text, 'model.safetensors'));
    // the replacement really comes from the text file
    const w = loadVisualizedWeights(pth, { textWeights: join(text, 'model.safetensors') });
    expect((w.stored('bge_pooler.dense.bias') as { file?: string }).file).toBe(join(text, 'model.safetensors'));
    expect((w.stored('visual_proj.bias') as { file?: string }).file).toBe(pth);
  });
});

describe('safetensors reader', () => {
  it('reads the header, metadata and data-offset order', () => {
    const c = readSafetensors(join(fixtureDir('tiny-bert'), 'text', 'model.safetensors'));
    expect(c.metadata).toEqual({ format: 'pt' });
    const keys = [...c.tensors.keys()];
    expect(keys[0]).toBe('embeddings.position_ids'); // I64 sorts before F32 in the file
    expect(keys.length).toBe(40);
    const offsets = [...c.tensors.values()].map((t) => t.fileOffset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });
});

describe('HF folder', () => {
  it('parses config.json of both fixtures into TextModelConfig', () => {
    const bert = readHfTextFolder(join(fixtureDir('tiny-bert'), 'text'));
    expect(bert.config).toEqual({
      model_type: 'bert',
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 64,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-12,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      vocab_size: 249,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
    });
    expect(bert.tokenizer.vocabTxt).toBe(join(fixtureDir('tiny-bert'), 'text', 'vocab.txt'));
    expect(bert.tokenizer.sentencepieceModel).toBeUndefined();
    const xlmr = readHfTextFolder(join(fixtureDir('tiny-xlmr'), 'text'));
    expect(xlmr.config.model_type).toBe('xlm-roberta');
    expect(xlmr.config.layer_norm_eps).toBe(1e-5);
    expect(xlmr.config.pad_token_id).toBe(1);
    expect(xlmr.config.bos_token_id).toBe(0);
    expect(xlmr.config.eos_token_id).toBe(2);
    expect(xlmr.tokenizer.sentencepieceModel).toBe(join(fixtureDir('tiny-xlmr'), 'text', 'sentencepiece.bpe.model'));
    expect(xlmr.tokenizer.tokenizerJson).toBeDefined();
    expect(xlmr.tokenizer.vocabTxt).toBeUndefined();
  });

  it('maps HF keys, with or without the bert./roberta. prefix, and ignores buffers and heads', () => {
    expect(visualizedKeyForHfKey('embeddings.word_embeddings.weight')).toBe('bge_embeddings.word_embeddings.weight');
    expect(visualizedKeyForHfKey('bert.encoder.layer.3.output.dense.bias')).toBe('bge_encoder.layer.3.output.dense.bias');
    expect(visualizedKeyForHfKey('roberta.pooler.dense.weight')).toBe('bge_pooler.dense.weight');
    expect(visualizedKeyForHfKey('embeddings.position_ids')).toBeNull();
    expect(visualizedKeyForHfKey('bert.embeddings.token_type_ids')).toBeNull();
    expect(visualizedKeyForHfKey('lm_head.dense.weight')).toBeNull();
    expect(visualizedKeyForHfKey('cls.predictions.bias')).toBeNull();
  });
});
