import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadVisualizedWeights, readHfTextFolder, readTorchZip, sha256File } from '../../src/checkpoint/index.js';
import {
  listVisualizedTensors,
  ropeTables,
  VISUALIZED_DIMS,
  writeRandomTextFolder,
  writeRandomVisualizedCheckpoint,
  type VisualizedDims,
} from '../helpers/random-checkpoint.js';
import { TextTokenizer } from '../../src/text/index.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { decodeSentencePieceModel } from '../helpers/sentencepiece-model.js';
import { expectedVisualizedLayout } from './expected-keys.js';
import { roundToFloat16 } from './expected-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-random-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('random Visualized checkpoint: layout (dry run)', () => {
  it.each([
    ['base', 488, 199, 287],
    ['m3', 956, 391, 563],
  ] as const)('%s has %i keys (%i text + %i visual + 2 proj), spec §6.1', (variant, total, bge, visual) => {
    const list = listVisualizedTensors(variant);
    expect(list.length).toBe(total);
    expect(new Set(list.map((t) => t.key)).size).toBe(total);
    expect(list.filter((t) => t.key.startsWith('bge_')).length).toBe(bge);
    expect(list.filter((t) => t.key.startsWith('model_visual.')).length).toBe(visual);
    expect(list.filter((t) => t.key.startsWith('visual_proj.')).length).toBe(2);
  });

  it.each(['base', 'm3'] as const)('%s layout equals the independent spec §6.1 table', (variant) => {
    const d = VISUALIZED_DIMS[variant];
    const expected = expectedVisualizedLayout({
      hidden: d.width,
      layers: d.textLayers,
      intermediate: d.textIntermediate,
      vocab: d.vocab,
      maxPos: d.maxPositions,
      typeVocab: d.typeVocab,
      visionWidth: d.width,
      blocks: d.visionDepth,
      swiglu: d.swigluHidden,
      patch: d.patch,
      patches: d.grid * d.grid,
      ropeDim: 64,
      clipEmbed: d.clipEmbedDim,
    });
    expect(listVisualizedTensors(variant).map((t) => [t.key, t.shape])).toEqual(expected);
  });

  it('spec §2 numbers: base 768/3072/30522/2048/P16/N196/E512, m3 1024/4096/250002/2730/P14/N256/E768', () => {
    const shape = (v: 'base' | 'm3', k: string): readonly number[] =>
      listVisualizedTensors(v).find((t) => t.key === k)!.shape;
    expect(shape('base', 'bge_embeddings.word_embeddings.weight')).toEqual([30522, 768]);
    expect(shape('m3', 'bge_embeddings.word_embeddings.weight')).toEqual([250002, 1024]);
    expect(shape('m3', 'bge_embeddings.position_embeddings.weight')).toEqual([8194, 1024]);
    expect(shape('m3', 'bge_embeddings.token_type_embeddings.weight')).toEqual([1, 1024]);
    expect(shape('base', 'model_visual.visual.blocks.11.mlp.w3.weight')).toEqual([768, 2048]);
    expect(shape('m3', 'model_visual.visual.blocks.23.mlp.w1.weight')).toEqual([2730, 1024]);
    expect(shape('base', 'model_visual.visual.patch_embed.proj.weight')).toEqual([768, 3, 16, 16]);
    expect(shape('m3', 'model_visual.visual.patch_embed.proj.weight')).toEqual([1024, 3, 14, 14]);
    expect(shape('base', 'model_visual.visual.rope.freqs_cos')).toEqual([196, 64]);
    expect(shape('m3', 'model_visual.visual.pos_embed')).toEqual([1, 257, 1024]);
    expect(shape('base', 'model_visual.visual.head.weight')).toEqual([512, 768]);
    expect(shape('m3', 'model_visual.visual.head.weight')).toEqual([768, 1024]);
    // fp16 bytes with shared RoPE storages ≈ the published 393 MB / 1.75 GB files
    const bytes = (v: 'base' | 'm3'): number =>
      listVisualizedTensors(v)
        .filter((t) => !/blocks\.\d+\.attn\.rope\./.test(t.key))
        .reduce((a, t) => a + 2 * t.shape.reduce((x, y) => x * y, 1), 0);
    expect(bytes('base') / 1e6).toBeCloseTo(393, -1);
    expect(bytes('m3') / 1e9).toBeCloseTo(1.75, 1);
  });
});

describe('RoPE tables (spec §3.5)', () => {
  it.each([14, 16])('grid %i: interleaved pairs, row part from r, column part from c', (grid) => {
    const { cos, sin } = ropeTables(grid);
    expect(cos.length).toBe(grid * grid * 64);
    const pt = 16;
    for (const [r, c] of [
      [0, 0],
      [1, 0],
      [3, 7],
      [grid - 1, grid - 1],
    ] as const) {
      const row = (r * grid + c) * 64;
      for (let i = 0; i < 16; i++) {
        const freq = 1 / 10000 ** ((2 * i) / 32);
        const tr = (r / grid) * pt;
        const tc = (c / grid) * pt;
        for (const k of [2 * i, 2 * i + 1]) {
          expect(cos[row + k]).toBeCloseTo(Math.cos(tr * freq), 5);
          expect(sin[row + k]).toBeCloseTo(Math.sin(tr * freq), 5);
          expect(cos[row + 32 + k]).toBeCloseTo(Math.cos(tc * freq), 5);
          expect(sin[row + 32 + k]).toBeCloseTo(Math.sin(tc * freq), 5);
        }
      }
    }
  });
});

const TINY: VisualizedDims = {
  width: 16,
  textLayers: 2,
  textIntermediate: 32,
  vocab: 300,
  maxPositions: 40,
  typeVocab: 2,
  visionDepth: 2,
  swigluHidden: 42,
  patch: 16,
  grid: 14,
  clipEmbedDim: 8,
};

describe('random Visualized checkpoint: written (reduced sizes, same code path)', () => {
  const paths = writeRandomVisualizedCheckpoint('base', join(dir, 'a'), { dims: TINY, seed: 7 });

  it('is a valid Visualized checkpoint, every tensor float16, keys in order', () => {
    const w = loadVisualizedWeights(paths.checkpoint);
    expect(w.allKeys()).toEqual(listVisualizedTensors(TINY).map((t) => t.key));
    const c = readTorchZip(paths.checkpoint);
    for (const t of c.tensors.values()) expect(t.dtype).toBe('float16');
    expect(c.prefix).toBe('Visualized_base_en_v1.5-random');
  });

  it('per-block RoPE keys share the top-level storage; tables are the fp16-rounded §3.5 values', () => {
    const c = readTorchZip(paths.checkpoint);
    const top = c.tensors.get('model_visual.visual.rope.freqs_sin')!;
    for (let i = 0; i < TINY.visionDepth; i++) {
      expect(c.tensors.get(`model_visual.visual.blocks.${i}.attn.rope.freqs_sin`)!.storageKey).toBe(top.storageKey);
    }
    expect(c.storageCount).toBe(c.tensors.size - 2 * TINY.visionDepth);
    const w = loadVisualizedWeights(paths.checkpoint);
    const want = ropeTables(TINY.grid);
    const got = w.get('model_visual.visual.rope.freqs_cos').data;
    for (let i = 0; i < got.length; i++) expect(got[i]).toBe(Math.fround(roundToFloat16(want.cos[i]!)));
  });

  it('statistics: linear weights ~N(0, 1/sqrt(fan_in)), LayerNorm weights ≈ 1', () => {
    const w = loadVisualizedWeights(paths.checkpoint);
    const stats = (k: string): { mean: number; std: number } => {
      const d = w.get(k).data;
      let s = 0;
      let s2 = 0;
      for (const v of d) {
        s += v;
        s2 += v * v;
      }
      const mean = s / d.length;
      return { mean, std: Math.sqrt(s2 / d.length - mean * mean) };
    };
    const lin = stats('bge_encoder.layer.0.intermediate.dense.weight'); // 32 × 16 → fan_in 16
    expect(lin.std).toBeGreaterThan(0.2);
    expect(lin.std).toBeLessThan(0.3);
    const patch = stats('model_visual.visual.patch_embed.proj.weight'); // fan_in 3·16·16 = 768
    expect(patch.std).toBeGreaterThan(0.03);
    expect(patch.std).toBeLessThan(0.04);
    const ln = stats('model_visual.visual.blocks.0.mlp.ffn_ln.weight');
    expect(Math.abs(ln.mean - 1)).toBeLessThan(0.02);
    expect(w.get('model_visual.logit_scale').data[0]).toBeCloseTo(Math.log(1 / 0.07), 2);
  });

  it('is deterministic per seed', async () => {
    const again = writeRandomVisualizedCheckpoint('base', join(dir, 'b'), { dims: TINY, seed: 7 });
    const other = writeRandomVisualizedCheckpoint('base', join(dir, 'c'), { dims: TINY, seed: 8 });
    expect(await sha256File(again.checkpoint)).toBe(await sha256File(paths.checkpoint));
    expect(await sha256File(other.checkpoint)).not.toBe(await sha256File(paths.checkpoint));
  });
});

describe('random text folders', () => {
  it('base: BERT config + WordPiece tokenizer with the real special ids', () => {
    const d = join(dir, 'text-base');
    writeRandomTextFolder('base', d);
    const folder = readHfTextFolder(d);
    expect(folder.config).toMatchObject({
      model_type: 'bert',
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      layer_norm_eps: 1e-12,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      vocab_size: 30522,
      pad_token_id: 0,
    });
    const vocab = readFileSync(folder.tokenizer.vocabTxt!, 'utf8').trimEnd().split('\n');
    expect(vocab.length).toBe(30522);
    expect(new Set(vocab).size).toBe(30522);
    expect([vocab[0], vocab[100], vocab[101], vocab[102], vocab[103]]).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    const tok = new Tokenizer(
      JSON.parse(readFileSync(folder.tokenizer.tokenizerJson!, 'utf8')),
      JSON.parse(readFileSync(folder.tokenizer.tokenizerConfig!, 'utf8')),
    );
    const a = vocab.findIndex((t, i) => i >= 2000 && !t.startsWith('##'));
    const b = vocab.findIndex((t, i) => i >= 3000 && !t.startsWith('##'));
    const ids = tok.encode(`${vocab[a]} ${vocab[b]}!`).ids;
    expect(ids).toEqual([101, a, b, vocab.indexOf('!'), 102]);
    expect(tok.encode('\u{1F600}').ids).toEqual([101, 100, 102]);
  });

  it('m3: the published tokenizer settings (charsmap normaliser), agreeing with the HF tokenizer, and the slow tokenizer\'s sentencepiece model', async () => {
    const d = join(dir, 'text-m3-small');
    writeRandomTextFolder('m3', d, { ...VISUALIZED_DIMS.m3, vocab: 8192 });
    const folder = readHfTextFolder(d);
    expect(folder.config.vocab_size).toBe(8192);
    const json = JSON.parse(readFileSync(folder.tokenizer.tokenizerJson!, 'utf8')) as {
      normalizer: { normalizers: { type: string }[] };
      model: { vocab: [string, number][] };
    };
    const published = JSON.parse(readFileSync(join(FIXTURES, 'tiny-xlmr', 'text', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['normalizer', 'pre_tokenizer', 'decoder']) expect(json[key as keyof typeof json]).toEqual(published[key]);
    // Ours and the HF tokenizer agree where NFKC-style normalisation matters.
    const ours = await TextTokenizer.fromDir(d);
    const hf = new Tokenizer(json, JSON.parse(readFileSync(folder.tokenizer.tokenizerConfig!, 'utf8')));
    for (const text of ['x²', 'ﬁ ba', 'Ｂａ  be 一']) expect(ours.encode(text)).toEqual(hf.encode(text).ids);
    // sentencepiece.bpe.model: the fixture's real model and ours read alike; ids are fairseq ids - 1.
    const real = decodeSentencePieceModel(readFileSync(join(FIXTURES, 'tiny-xlmr', 'text', 'sentencepiece.bpe.model')));
    const spm = decodeSentencePieceModel(readFileSync(folder.tokenizer.sentencepieceModel!));
    expect(spm.normalizerName).toBe(real.normalizerName);
    expect(Buffer.compare(spm.charsmap, real.charsmap)).toBe(0);
    expect(spm.modelType).toBe(real.modelType);
    expect(spm.pieces.slice(0, 3)).toEqual(real.pieces.slice(0, 3));
    expect(spm.pieces.length).toBe(8192 - 2);
    for (const id of [4, 5, 100, 8190]) expect([spm.pieces[id - 1]!.piece, spm.pieces[id - 1]!.score]).toEqual([json.model.vocab[id]![0], Math.fround(json.model.vocab[id]![1])]);
  });
});
