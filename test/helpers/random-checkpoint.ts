/**
 * Full-size random-weight Visualized BGE checkpoints (exact key set and shapes of the published
 * `Visualized_base_en_v1.5.pth` / `Visualized_m3.pth`, every tensor float16) plus an HF-style text
 * folder with a made-up tokenizer, so benchmarks can run without downloading the real weights.
 * The values mean nothing; they are seeded and scaled so activations stay in a sane range.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32ToFloat16Bits, toFloat16Bytes } from '../../src/checkpoint/convert.js';
import { numel } from '../../src/checkpoint/tensor.js';
import { EVA02_CLIP_B_16, EVA02_CLIP_L_14, gridSize, mlpHidden } from '../../src/model/eva-config.js';
import { makeDirs } from '../../src/util/fs.js';
import { FIXTURES } from './fixtures.js';
import { encodeSentencePieceModel, PIECE_TYPE } from './sentencepiece-model.js';
import { writeTorchZip, type TorchZipTensorSpec } from './torch-zip-writer.js';

export type VisualizedVariant = 'base' | 'm3';

/** The dimensions of spec §2 / §6.1. */
export interface VisualizedDims {
  /** Text hidden size = vision width. */
  readonly width: number;
  readonly textLayers: number;
  readonly textIntermediate: number;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly typeVocab: number;
  readonly visionDepth: number;
  /** SwiGLU hidden size int(width · 2.6667). */
  readonly swigluHidden: number;
  readonly patch: number;
  /** Patches per side (224 / patch). */
  readonly grid: number;
  /** The unused CLIP head's output size. */
  readonly clipEmbedDim: number;
}

/** The vision side comes from the model's own EVA02-CLIP configs; the text side is bge's config.json. */
export const VISUALIZED_DIMS: Readonly<Record<VisualizedVariant, VisualizedDims>> = {
  base: {
    width: EVA02_CLIP_B_16.width,
    textLayers: 12,
    textIntermediate: 3072,
    vocab: 30522,
    maxPositions: 512,
    typeVocab: 2,
    visionDepth: EVA02_CLIP_B_16.layers,
    swigluHidden: mlpHidden(EVA02_CLIP_B_16),
    patch: EVA02_CLIP_B_16.patchSize,
    grid: gridSize(EVA02_CLIP_B_16),
    clipEmbedDim: 512,
  },
  m3: {
    width: EVA02_CLIP_L_14.width,
    textLayers: 24,
    textIntermediate: 4096,
    vocab: 250002,
    maxPositions: 8194,
    typeVocab: 1,
    visionDepth: EVA02_CLIP_L_14.layers,
    swigluHidden: mlpHidden(EVA02_CLIP_L_14),
    patch: EVA02_CLIP_L_14.patchSize,
    grid: gridSize(EVA02_CLIP_L_14),
    clipEmbedDim: 768,
  },
};

const ROPE_HEAD_DIM = 64;
const ROPE_PT_SEQ_LEN = 16;
const ROPE_THETA = 10000;

export interface VisualizedTensorSpec {
  readonly key: string;
  readonly shape: readonly number[];
}

/** Every key of the variant's state dict with its shape, in registration order (spec §6.1). */
export function listVisualizedTensors(variant: VisualizedVariant | VisualizedDims): VisualizedTensorSpec[] {
  const d = typeof variant === 'string' ? VISUALIZED_DIMS[variant] : variant;
  const W = d.width;
  const out: VisualizedTensorSpec[] = [];
  const add = (key: string, shape: number[]): void => void out.push({ key, shape });
  const linear = (key: string, outDim: number, inDim: number): void => {
    add(`${key}.weight`, [outDim, inDim]);
    add(`${key}.bias`, [outDim]);
  };
  const norm = (key: string, dim: number): void => {
    add(`${key}.weight`, [dim]);
    add(`${key}.bias`, [dim]);
  };
  for (let i = 0; i < d.textLayers; i++) {
    const l = `bge_encoder.layer.${i}`;
    linear(`${l}.attention.self.query`, W, W);
    linear(`${l}.attention.self.key`, W, W);
    linear(`${l}.attention.self.value`, W, W);
    linear(`${l}.attention.output.dense`, W, W);
    norm(`${l}.attention.output.LayerNorm`, W);
    linear(`${l}.intermediate.dense`, d.textIntermediate, W);
    linear(`${l}.output.dense`, W, d.textIntermediate);
    norm(`${l}.output.LayerNorm`, W);
  }
  add('bge_embeddings.word_embeddings.weight', [d.vocab, W]);
  add('bge_embeddings.position_embeddings.weight', [d.maxPositions, W]);
  add('bge_embeddings.token_type_embeddings.weight', [d.typeVocab, W]);
  norm('bge_embeddings.LayerNorm', W);
  linear('bge_pooler.dense', W, W);

  const n = d.grid * d.grid;
  const v = 'model_visual.visual';
  add('model_visual.logit_scale', []);
  add(`${v}.cls_token`, [1, 1, W]);
  add(`${v}.pos_embed`, [1, n + 1, W]);
  add(`${v}.patch_embed.proj.weight`, [W, 3, d.patch, d.patch]);
  add(`${v}.patch_embed.proj.bias`, [W]);
  add(`${v}.rope.freqs_cos`, [n, ROPE_HEAD_DIM]);
  add(`${v}.rope.freqs_sin`, [n, ROPE_HEAD_DIM]);
  for (let i = 0; i < d.visionDepth; i++) {
    const b = `${v}.blocks.${i}`;
    norm(`${b}.norm1`, W);
    add(`${b}.attn.q_bias`, [W]);
    add(`${b}.attn.v_bias`, [W]);
    add(`${b}.attn.q_proj.weight`, [W, W]);
    add(`${b}.attn.k_proj.weight`, [W, W]);
    add(`${b}.attn.v_proj.weight`, [W, W]);
    norm(`${b}.attn.inner_attn_ln`, W);
    linear(`${b}.attn.proj`, W, W);
    add(`${b}.attn.rope.freqs_cos`, [n, ROPE_HEAD_DIM]);
    add(`${b}.attn.rope.freqs_sin`, [n, ROPE_HEAD_DIM]);
    norm(`${b}.norm2`, W);
    linear(`${b}.mlp.w1`, d.swigluHidden, W);
    linear(`${b}.mlp.w2`, d.swigluHidden, W);
    norm(`${b}.mlp.ffn_ln`, d.swigluHidden);
    linear(`${b}.mlp.w3`, W, d.swigluHidden);
  }
  norm(`${v}.norm`, W);
  linear(`${v}.head`, d.clipEmbedDim, W);
  linear('visual_proj', W, W);
  return out;
}

/**
 * The EVA02 2-D RoPE tables of spec §3.5 (head dim 64, pt_hw_seq_len 16, ft = grid), computed
 * step by step in float32 like torch: row p = r·grid + c holds concat(f[r], f[c]), pairs interleaved.
 */
export function ropeTables(grid: number): { cos: Float32Array; sin: Float32Array } {
  const f = Math.fround;
  const half = ROPE_HEAD_DIM / 2;
  const freqs = new Float32Array(half / 2);
  for (let i = 0; i < freqs.length; i++) freqs[i] = f(1 / f(Math.pow(ROPE_THETA, f((2 * i) / half))));
  const axis = new Float32Array(grid * half);
  for (let j = 0; j < grid; j++) {
    const t = f(f(j / grid) * ROPE_PT_SEQ_LEN);
    for (let i = 0; i < freqs.length; i++) {
      const v = f(t * freqs[i]!);
      axis[j * half + 2 * i] = v;
      axis[j * half + 2 * i + 1] = v;
    }
  }
  const n = grid * grid;
  const cos = new Float32Array(n * ROPE_HEAD_DIM);
  const sin = new Float32Array(n * ROPE_HEAD_DIM);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const row = (r * grid + c) * ROPE_HEAD_DIM;
      for (let k = 0; k < half; k++) {
        const a = axis[r * half + k]!;
        const b = axis[c * half + k]!;
        cos[row + k] = Math.cos(a);
        sin[row + k] = Math.sin(a);
        cos[row + half + k] = Math.cos(b);
        sin[row + half + k] = Math.sin(b);
      }
    }
  }
  return { cos, sin };
}

/** How a tensor is filled: mean + scale · N(0, 1), or fixed values. */
type Init = { kind: 'normal'; mean: number; scale: number } | { kind: 'values'; values: Float32Array };

function initFor(key: string, shape: readonly number[], rope: { cos: Float32Array; sin: Float32Array }): Init {
  if (key.endsWith('rope.freqs_cos')) return { kind: 'values', values: rope.cos };
  if (key.endsWith('rope.freqs_sin')) return { kind: 'values', values: rope.sin };
  if (key === 'model_visual.logit_scale') return { kind: 'values', values: Float32Array.of(Math.log(1 / 0.07)) };
  const isNormWeight = /(LayerNorm|norm1|norm2|inner_attn_ln|ffn_ln|visual\.norm)\.weight$/.test(key);
  if (isNormWeight) return { kind: 'normal', mean: 1, scale: 0.02 };
  if (/(word|position|token_type)_embeddings\.weight$/.test(key)) return { kind: 'normal', mean: 0, scale: 0.05 };
  if (key.endsWith('cls_token') || key.endsWith('pos_embed')) return { kind: 'normal', mean: 0, scale: 0.02 };
  if (key.endsWith('.weight') && shape.length >= 2) {
    const fanIn = numel(shape.slice(1));
    return { kind: 'normal', mean: 0, scale: 1 / Math.sqrt(fanIn) };
  }
  return { kind: 'normal', mean: 0, scale: 0.02 }; // biases, q_bias, v_bias
}

/** Standard-normal quantiles at (i + 0.5) / 65536: a 16-bit uniform index gives a normal sample. */
const NORMAL_QUANTILES = (() => {
  const t = new Float64Array(65536);
  for (let i = 0; i < t.length; i++) t[i] = inverseNormalCdf((i + 0.5) / t.length);
  return t;
})();

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  const pLow = 0.02425;
  if (p < pLow) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - pLow) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** xorshift128 seeded through splitmix32, one independent stream per (seed, tensor index). */
class Xorshift128 {
  private x: number;
  private y: number;
  private z: number;
  private w: number;
  constructor(seed: number, stream: number) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      return (t ^ (t >>> 16)) >>> 0;
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() || 1;
  }
  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }
}

const CHUNK_ELEMENTS = 1 << 22;

/** float16 samples of mean + scale·N(0,1), streamed in chunks (via a 65536-entry fp16 table). */
function* normalFloat16Chunks(count: number, mean: number, scale: number, rng: Xorshift128): Generator<Uint8Array> {
  const table = new Uint16Array(65536);
  for (let i = 0; i < table.length; i++) table[i] = float32ToFloat16Bits(mean + scale * NORMAL_QUANTILES[i]!);
  for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
    const n = Math.min(CHUNK_ELEMENTS, count - done);
    const out = new Uint16Array(n);
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = rng.nextU32();
      out[i] = table[r & 0xffff]!;
      out[i + 1] = table[r >>> 16]!;
    }
    if (i < n) out[i] = table[rng.nextU32() & 0xffff]!;
    // Uint16Array is host-endian; every platform Node supports for this is little-endian.
    yield new Uint8Array(out.buffer);
  }
}

export interface RandomCheckpointPaths {
  /** The `.pth` file. */
  readonly checkpoint: string;
  /** The HF-style text folder (config.json + tokenizer files). */
  readonly textDir: string;
}

const FILE_NAMES: Record<VisualizedVariant, { pth: string; text: string }> = {
  base: { pth: 'Visualized_base_en_v1.5-random.pth', text: 'bge-base-en-v1.5-random' },
  m3: { pth: 'Visualized_m3-random.pth', text: 'bge-m3-random' },
};

/**
 * Writes a random-weight checkpoint of `variant` and its text folder into `outDir` (created if
 * needed). The per-block RoPE keys share the top-level tables' storages, as `model.half()` saves.
 */
export function writeRandomVisualizedCheckpoint(
  variant: VisualizedVariant,
  outDir: string,
  opts: {
    seed?: number;
    /** Other sizes with the same structure (shallow ones for tests); the text folder follows them. */
    dims?: VisualizedDims;
  } = {},
): RandomCheckpointPaths {
  const seed = opts.seed ?? 20240601;
  const dims = opts.dims ?? VISUALIZED_DIMS[variant];
  const rope = ropeTables(dims.grid);
  makeDirs(outDir);
  const specs = new Map<string, TorchZipTensorSpec>();
  listVisualizedTensors(dims).forEach(({ key, shape }, index) => {
    const ropeMatch = /^model_visual\.visual\.blocks\.\d+\.attn\.rope\.(freqs_cos|freqs_sin)$/.exec(key);
    if (ropeMatch) {
      specs.set(key, { dtype: 'float16', shape, shareStorageOf: `model_visual.visual.rope.${ropeMatch[1]}` });
      return;
    }
    const init = initFor(key, shape, rope);
    const count = numel(shape);
    specs.set(key, {
      dtype: 'float16',
      shape,
      storageNumel: count,
      data:
        init.kind === 'values'
          ? toFloat16Bytes(init.values)
          : () => normalFloat16Chunks(count, init.mean, init.scale, new Xorshift128(seed, index)),
    });
  });
  const names = FILE_NAMES[variant];
  const checkpoint = join(outDir, names.pth);
  writeTorchZip(checkpoint, specs, { prefix: names.pth.replace(/\.pth$/, '') });
  const textDir = join(outDir, names.text);
  writeRandomTextFolder(variant, textDir, dims);
  return { checkpoint, textDir };
}

/** The text tower's `config.json` with the real model's values (spec §2). */
export function textConfigJson(variant: VisualizedVariant, d: VisualizedDims = VISUALIZED_DIMS[variant]): Record<string, unknown> {
  const common = {
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: d.width,
    initializer_range: 0.02,
    intermediate_size: d.textIntermediate,
    max_position_embeddings: d.maxPositions,
    num_attention_heads: d.width / 64,
    num_hidden_layers: d.textLayers,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    type_vocab_size: d.typeVocab,
    use_cache: true,
    vocab_size: d.vocab,
  };
  return variant === 'base'
    ? { architectures: ['BertModel'], ...common, layer_norm_eps: 1e-12, model_type: 'bert', pad_token_id: 0 }
    : {
        architectures: ['XLMRobertaModel'],
        ...common,
        bos_token_id: 0,
        eos_token_id: 2,
        layer_norm_eps: 1e-5,
        model_type: 'xlm-roberta',
        output_past: true,
        pad_token_id: 1,
      };
}

/** Distinct pronounceable made-up words: the base-100 digits of `i` as syllables. */
function madeUpWord(i: number): string {
  const consonants = 'bcdfghjklmnprstvwxyz';
  const vowels = 'aeiou';
  let s = '';
  let n = i;
  do {
    const syl = n % 100;
    s = consonants[syl % 20]! + vowels[Math.floor(syl / 20)]! + s;
    n = Math.floor(n / 100);
  } while (n > 0);
  return s;
}

const PRINTABLE_ASCII = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i));

/**
 * Writes config.json and a made-up vocabulary with the published models' tokenizer settings
 * (BERT WordPiece for base, XLM-R Unigram with its charsmap and `sentencepiece.bpe.model` for m3).
 */
export function writeRandomTextFolder(variant: VisualizedVariant, dir: string, dims: VisualizedDims = VISUALIZED_DIMS[variant]): void {
  makeDirs(dir);
  // tokenizer.json is large (up to 250k pieces): compact, like the published files.
  const json = (name: string, value: unknown): void =>
    writeFileSync(join(dir, name), JSON.stringify(value, null, name === 'tokenizer.json' ? undefined : 2) + '\n');
  json('config.json', textConfigJson(variant, dims));
  if (variant === 'base') writeBertTokenizer(dir, json, dims.vocab);
  else writeXlmrTokenizer(dir, json, dims.vocab);
}

const addedToken = (id: number, content: string, lstrip = false) => ({
  id,
  content,
  single_word: false,
  lstrip,
  rstrip: false,
  normalized: false,
  special: true,
});

function writeBertTokenizer(dir: string, json: (name: string, value: unknown) => void, size: number): void {
  const vocab: string[] = ['[PAD]'];
  for (let i = 0; i < 99; i++) vocab.push(`[unused${i}]`);
  vocab.push('[UNK]', '[CLS]', '[SEP]', '[MASK]');
  const chars = PRINTABLE_ASCII.filter((c) => !(c >= 'A' && c <= 'Z'));
  vocab.push(...chars, ...chars.map((c) => `##${c}`));
  if (vocab.length > size) throw new Error(`a random BERT vocabulary needs at least ${vocab.length} entries, got ${size}`);
  for (let i = 0; vocab.length < size; i++) vocab.push(i % 3 === 2 ? `##${madeUpWord(i)}` : madeUpWord(i));
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  const special = { '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103 };
  json('tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(special).map(([t, id]) => addedToken(id, t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  });
  json('tokenizer_config.json', {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  });
  json('special_tokens_map.json', {
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    unk_token: '[UNK]',
  });
}

function writeXlmrTokenizer(dir: string, json: (name: string, value: unknown) => void, size: number): void {
  const pieces: [string, number][] = [
    ['<s>', 0],
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
  ];
  let score = -2;
  const push = (piece: string): void => {
    pieces.push([piece, score]);
    score -= 1e-4;
  };
  push('\u2581');
  for (const c of PRINTABLE_ASCII) push(c);
  for (const c of PRINTABLE_ASCII) push(`\u2581${c}`);
  for (let cp = 0x4e00; cp < 0x4e00 + Math.min(2000, size / 4); cp++) push(String.fromCodePoint(cp));
  if (pieces.length >= size) throw new Error(`a random XLM-R vocabulary needs more than ${pieces.length} pieces, got ${size}`);
  for (let i = 0; pieces.length < size - 1; i++) push(i % 2 === 0 ? `\u2581${madeUpWord(i)}` : madeUpWord(i));
  const maskId = size - 1;
  pieces.push(['<mask>', 0]);
  const specials: [string, number][] = [
    ['<s>', 0],
    ['</s>', 2],
  ];
  const charsmap = xlmrCharsmap();
  // The slow tokenizer's own file: SentencePiece ids are fairseq ids - 1, with <unk> <s> </s> first.
  const spmPieces = [
    { piece: '<unk>', score: 0, type: PIECE_TYPE.unknown },
    { piece: '<s>', score: 0, type: PIECE_TYPE.control },
    { piece: '</s>', score: 0, type: PIECE_TYPE.control },
    ...pieces.slice(4, -1).map(([piece, score]) => ({ piece, score, type: PIECE_TYPE.normal })),
  ];
  writeFileSync(join(dir, 'sentencepiece.bpe.model'), encodeSentencePieceModel({ pieces: spmPieces, normalizerName: 'nmt_nfkc', charsmap, modelType: 1 }));
  json('tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(0, '<s>'),
      addedToken(1, '<pad>'),
      addedToken(2, '</s>'),
      addedToken(3, '<unk>'),
      addedToken(maskId, '<mask>', true),
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: Buffer.from(charsmap).toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: Object.fromEntries(specials.map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
    },
    decoder: { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true },
    model: { type: 'Unigram', unk_id: 3, vocab: pieces },
  });
  json('tokenizer_config.json', {
    bos_token: '<s>',
    clean_up_tokenization_spaces: true,
    cls_token: '<s>',
    eos_token: '</s>',
    mask_token: { __type: 'AddedToken', content: '<mask>', lstrip: true, normalized: true, rstrip: false, single_word: false },
    model_max_length: 8192,
    pad_token: '<pad>',
    sep_token: '</s>',
    sp_model_kwargs: {},
    tokenizer_class: 'XLMRobertaTokenizer',
    unk_token: '<unk>',
  });
  json('special_tokens_map.json', {
    bos_token: '<s>',
    cls_token: '<s>',
    eos_token: '</s>',
    mask_token: { content: '<mask>', lstrip: true, normalized: false, rstrip: false, single_word: false },
    pad_token: '<pad>',
    sep_token: '</s>',
    unk_token: '<unk>',
  });
}

/**
 * SentencePiece's nmt_nfkc charsmap (237 kB, the normalisation XLM-R's model uses), taken from the
 * recorded fixture, whose model SentencePiece 0.1.97 trained with it.
 */
function xlmrCharsmap(): Uint8Array {
  const tokenizer = JSON.parse(readFileSync(join(FIXTURES, 'tiny-xlmr', 'text', 'tokenizer.json'), 'utf8')) as {
    normalizer: { normalizers: { precompiled_charsmap?: string }[] };
  };
  const base64 = tokenizer.normalizer.normalizers[0]?.precompiled_charsmap;
  if (base64 === undefined) throw new Error('the tiny-xlmr fixture tokenizer.json has no precompiled charsmap');
  return Buffer.from(base64, 'base64');
}
