/**
 * A Hugging Face text-model folder (BAAI/bge-base-en-v1.5, BAAI/bge-m3 or alike): its
 * `config.json`, tokenizer files and optional weights, and the key mapping from the HF text tower
 * to the Visualized BGE checkpoint's `bge_*` keys.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import type { StoredTensor } from './tensor.js';
import { WeightMap } from './weight-map.js';

/** The fields of an HF `config.json` the text tower needs (HF's own names). */
export interface TextModelConfig {
  readonly model_type: 'bert' | 'xlm-roberta';
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly intermediate_size: number;
  /** `gelu` is exact erf GELU in HF. */
  readonly hidden_act: string;
  readonly layer_norm_eps: number;
  readonly max_position_embeddings: number;
  readonly type_vocab_size: number;
  readonly vocab_size: number;
  readonly pad_token_id: number;
  readonly position_embedding_type: string;
  readonly bos_token_id?: number;
  readonly eos_token_id?: number;
}

/** The files of an HF text-model folder, by role: the one place their names are written. */
export const HF_TEXT_FILES = {
  config: 'config.json',
  tokenizerJson: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  specialTokensMap: 'special_tokens_map.json',
  /** The slow BertTokenizer's vocabulary. */
  vocabTxt: 'vocab.txt',
  /** The slow XLMRobertaTokenizer's SentencePiece model. */
  sentencepieceModel: 'sentencepiece.bpe.model',
} as const;

/** What our tokenizer reads, in fingerprint order (config.json only for its model_type). */
export const TOKENIZER_FILES = [HF_TEXT_FILES.tokenizerJson, HF_TEXT_FILES.tokenizerConfig, HF_TEXT_FILES.specialTokensMap] as const;

/** Config and tokenizer files of a text model, as fetched from the hub; plus the slow tokenizer's own file when known. */
export function textModelFiles(slowTokenizer?: 'bert' | 'xlm-roberta'): string[] {
  const slow = slowTokenizer === 'bert' ? [HF_TEXT_FILES.vocabTxt] : slowTokenizer === 'xlm-roberta' ? [HF_TEXT_FILES.sentencepieceModel] : [];
  return [HF_TEXT_FILES.config, ...TOKENIZER_FILES, ...slow];
}

export interface HfTokenizerFiles {
  readonly tokenizerJson?: string;
  readonly tokenizerConfig?: string;
  readonly specialTokensMap?: string;
  readonly vocabTxt?: string;
  readonly sentencepieceModel?: string;
}

export interface HfTextFolder {
  readonly dir: string;
  readonly configPath: string;
  readonly config: TextModelConfig;
  /** Absolute paths of the tokenizer files present. */
  readonly tokenizer: HfTokenizerFiles;
  /** `model.safetensors` if present, else `pytorch_model.bin`, else undefined. */
  readonly weights?: string;
}

/** Parses and validates a text tower's `config.json`. */
export function readTextModelConfig(path: string): TextModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      path,
      code === 'ENOENT' ? 'config.json not found' : `cannot read config.json (${(err as Error).message})`,
      { cause: err },
    );
  }
  return parseTextModelConfig(raw, path);
}

/** Validates an already-parsed `config.json` object; `source` names it in errors. */
export function parseTextModelConfig(raw: unknown, source: string): TextModelConfig {
  const fail = (msg: string): never => {
    throw new CheckpointError(source, `invalid text model config: ${msg}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('not a JSON object');
  const c = raw as Record<string, unknown>;
  const positiveInt = (name: string): number => {
    const v = c[name];
    if (v === undefined) fail(`required field "${name}" is missing`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`"${name}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const optionalInt = (name: string): number | undefined => {
    const v = c[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`"${name}" must be a non-negative integer, got ${JSON.stringify(v)}`);
    return v as number;
  };

  const modelType = c['model_type'];
  if (modelType !== 'bert' && modelType !== 'xlm-roberta') {
    fail(`model_type is ${JSON.stringify(modelType)}; supported: "bert" (bge-base-en-v1.5), "xlm-roberta" (bge-m3)`);
  }
  const hidden = positiveInt('hidden_size');
  const heads = positiveInt('num_attention_heads');
  if (hidden % heads !== 0) fail(`hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`);
  const eps = c['layer_norm_eps'];
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) fail(`"layer_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
  const act = c['hidden_act'] ?? 'gelu';
  if (typeof act !== 'string') fail(`"hidden_act" must be a string, got ${JSON.stringify(act)}`);
  const posType = c['position_embedding_type'] ?? 'absolute';
  if (posType !== 'absolute') fail(`position_embedding_type ${JSON.stringify(posType)} is not supported (only "absolute")`);
  const vocab = positiveInt('vocab_size');
  const pad = optionalInt('pad_token_id') ?? (modelType === 'xlm-roberta' ? 1 : 0);
  if (pad >= vocab) fail(`pad_token_id ${pad} is outside the vocabulary (vocab_size ${vocab})`);

  const config: TextModelConfig = {
    model_type: modelType as 'bert' | 'xlm-roberta',
    hidden_size: hidden,
    num_hidden_layers: positiveInt('num_hidden_layers'),
    num_attention_heads: heads,
    intermediate_size: positiveInt('intermediate_size'),
    hidden_act: act as string,
    layer_norm_eps: eps as number,
    max_position_embeddings: positiveInt('max_position_embeddings'),
    type_vocab_size: positiveInt('type_vocab_size'),
    vocab_size: vocab,
    pad_token_id: pad,
    position_embedding_type: 'absolute',
  };
  const bos = optionalInt('bos_token_id');
  const eos = optionalInt('eos_token_id');
  return { ...config, ...(bos !== undefined ? { bos_token_id: bos } : {}), ...(eos !== undefined ? { eos_token_id: eos } : {}) };
}

/** Reads an HF text-model folder: config (required), tokenizer files and weights (if present). */
export function readHfTextFolder(dir: string): HfTextFolder {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new CheckpointError(dir, 'text model folder not found', { cause: err });
  }
  if (!isDir) throw new CheckpointError(dir, 'is not a folder; expected a Hugging Face text model folder with config.json');
  const file = (name: string): string | undefined => {
    const p = join(dir, name);
    return existsSync(p) && statSync(p).isFile() ? p : undefined;
  };
  const configPath = join(dir, HF_TEXT_FILES.config);
  if (!file(HF_TEXT_FILES.config)) throw new CheckpointError(dir, `text model folder has no ${HF_TEXT_FILES.config}`);
  const config = readTextModelConfig(configPath);
  const tokenizer: HfTokenizerFiles = {
    ...optional('tokenizerJson', file(HF_TEXT_FILES.tokenizerJson)),
    ...optional('tokenizerConfig', file(HF_TEXT_FILES.tokenizerConfig)),
    ...optional('specialTokensMap', file(HF_TEXT_FILES.specialTokensMap)),
    ...optional('vocabTxt', file(HF_TEXT_FILES.vocabTxt)),
    ...optional('sentencepieceModel', file(HF_TEXT_FILES.sentencepieceModel)),
  };
  const weights = file('model.safetensors') ?? file('pytorch_model.bin');
  return { dir, configPath, config, tokenizer, ...(weights ? { weights } : {}) };
}

function optional<K extends string>(key: K, value: string | undefined): { [k in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: string };
}

/** HF text-tower key prefixes → Visualized BGE key prefixes. */
const TEXT_PREFIXES: readonly [string, string][] = [
  ['embeddings.', 'bge_embeddings.'],
  ['encoder.', 'bge_encoder.'],
  ['pooler.', 'bge_pooler.'],
];

/** Buffers HF saved before transformers 4.31; the Visualized checkpoint has none. */
const IGNORED_TEXT_KEYS = new Set(['embeddings.position_ids', 'embeddings.token_type_ids']);

/**
 * The Visualized BGE key for an HF text-tower key (`embeddings.*`, `encoder.*`, `pooler.*`,
 * optionally under `bert.` / `roberta.`), or null for keys that are not text-tower weights
 * (the `position_ids` / `token_type_ids` buffers, task heads such as `lm_head.*` or `cls.*`).
 */
export function visualizedKeyForHfKey(hfKey: string): string | null {
  let key = hfKey;
  for (const p of ['bert.', 'roberta.']) if (key.startsWith(p)) key = key.slice(p.length);
  if (IGNORED_TEXT_KEYS.has(key)) return null;
  for (const [from, to] of TEXT_PREFIXES) if (key.startsWith(from)) return to + key.slice(from.length);
  return null;
}

/**
 * The text-tower tensors of `w` (HF key names) under their Visualized BGE names, in file order.
 * Fails when nothing maps or two HF keys map to the same name.
 */
export function mapHfTextWeights(w: WeightMap): WeightMap {
  const out = new Map<string, StoredTensor>();
  const from = new Map<string, string>();
  for (const hfKey of w.allKeys()) {
    const key = visualizedKeyForHfKey(hfKey);
    if (key === null) continue;
    if (out.has(key)) {
      throw new CheckpointError(w.source, `text weights "${from.get(key)}" and "${hfKey}" both map to "${key}"`);
    }
    out.set(key, w.stored(hfKey));
    from.set(key, hfKey);
  }
  if (out.size === 0) {
    throw new CheckpointError(
      w.source,
      'no text-tower tensors found (expected HF BERT/XLM-R keys such as "embeddings.word_embeddings.weight" or "encoder.layer.0...")',
    );
  }
  return WeightMap.fromTensors(out, w.source);
}
