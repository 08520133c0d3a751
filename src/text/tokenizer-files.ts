/**
 * Reads a Hugging Face text-model folder's tokenizer files (tokenizer.json, and when present
 * tokenizer_config.json, special_tokens_map.json, config.json) into the plain description the
 * tokenizer is built from. Every malformed or missing piece is a CheckpointError naming its file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HF_TEXT_FILES, TOKENIZER_FILES } from '../checkpoint/hf-folder.js';
import { CheckpointError } from '../errors.js';
import { readCachedDescription, writeCachedDescription } from './description-cache.js';
import { rememberFingerprint, rememberedFingerprint, stampFiles } from './fingerprint-memo.js';
import { checkPipelineSettings } from './pipeline-settings.js';
import type { BertOptions } from './bert-wordpiece.js';
import type { SpecialToken } from './special-tokens.js';
import type { TokenizerDescription, TokenizerKind } from './tokenizer-description.js';
import { packPieces } from './unigram-pieces.js';

export type { BertDescription, TokenizerDescription, TokenizerKind, XlmRobertaDescription } from './tokenizer-description.js';

type Json = Record<string, unknown>;

export interface ReadTokenizerOptions {
  /**
   * A folder for compact copies of parsed descriptions (Unigram and WordPiece), keyed by the
   * files' fingerprint (description-cache.ts); none by default.
   */
  readonly cacheDir?: string;
}

export async function readTokenizerDescription(dir: string, options: ReadTokenizerOptions = {}): Promise<TokenizerDescription> {
  const modelConfigPath = join(dir, HF_TEXT_FILES.config);
  const modelConfig = optionalObject(await readOptional(modelConfigPath), modelConfigPath);
  const { cacheDir } = options;
  // The same files parse to the same description: the copy made when they were first parsed.
  const cachedCopy = (fingerprint: string | undefined): TokenizerDescription | undefined => {
    const copy = cacheDir === undefined || fingerprint === undefined ? undefined : readCachedDescription(cacheDir, fingerprint);
    if (copy) checkModelType(modelConfig, modelConfigPath, copy.kind);
    return copy;
  };
  // Unchanged files, already parsed: their description without reading them (fingerprint-memo.ts).
  const stamps = cacheDir === undefined ? undefined : stampFiles(dir, TOKENIZER_FILES);
  const remembered = cacheDir !== undefined && stamps ? rememberedFingerprint(cacheDir, dir, stamps) : undefined;
  const copyAsRemembered = cachedCopy(remembered);
  if (copyAsRemembered) return copyAsRemembered;

  // The fingerprint hashes these files in this order (absent optional files are skipped).
  const tokenizerPath = join(dir, HF_TEXT_FILES.tokenizerJson);
  const bytes = new Map<string, Buffer>();
  for (const name of TOKENIZER_FILES) {
    const data = await readOptional(join(dir, name));
    if (data !== undefined) bytes.set(name, data);
  }
  const tokenizerBytes = bytes.get(HF_TEXT_FILES.tokenizerJson);
  if (tokenizerBytes === undefined) throw new CheckpointError(tokenizerPath, 'tokenizer.json not found');
  const hash = createHash('sha256');
  for (const [name, data] of bytes) {
    hash.update(`${name}\0${data.length}\0`);
    hash.update(data);
  }
  const fingerprint = hash.digest('hex');
  if (fingerprint !== remembered) {
    if (cacheDir !== undefined && stamps) rememberFingerprint(cacheDir, dir, stamps, fingerprint);
    const copy = cachedCopy(fingerprint);
    if (copy) return copy;
  }

  const tokenizer = parseObject(tokenizerBytes, tokenizerPath);
  const configPath = join(dir, HF_TEXT_FILES.tokenizerConfig);
  const mapPath = join(dir, HF_TEXT_FILES.specialTokensMap);
  const tokenizerConfig = optionalObject(bytes.get(HF_TEXT_FILES.tokenizerConfig), configPath);
  const specialMap = optionalObject(bytes.get(HF_TEXT_FILES.specialTokensMap), mapPath);

  const fail = (msg: string): never => {
    throw new CheckpointError(tokenizerPath, `invalid tokenizer.json: ${msg}`);
  };
  const model = tokenizer['model'];
  if (!isObject(model)) return fail('"model" is missing');
  const modelType = model['type'];
  let kind: TokenizerKind;
  if (modelType === 'WordPiece') kind = 'bert';
  else if (modelType === 'Unigram') kind = 'xlm-roberta';
  else {
    return fail(
      `unsupported model type ${JSON.stringify(modelType)}; expected WordPiece (BERT, bge-base) or Unigram (XLM-R, bge-m3)`,
    );
  }
  checkModelType(modelConfig, modelConfigPath, kind);
  const checked = <D extends TokenizerDescription>(d: D): D => {
    checkPipelineSettings(tokenizer, kind, d, tokenizerPath);
    return d;
  };

  const specialTokens = readAddedTokens(tokenizer, fail);

  const defaults = kind === 'bert' ? { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]' } : { cls: '<s>', sep: '</s>', pad: '<pad>' };
  const tokenName = (key: string, fallback: string): string =>
    tokenContent(specialMap?.[key]) ?? tokenContent(tokenizerConfig?.[key]) ?? fallback;

  if (kind === 'bert') {
    const vocabRaw = model['vocab'];
    if (!isObject(vocabRaw)) return fail('WordPiece "vocab" must be an object of token → id');
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(vocabRaw)) {
      if (!Number.isSafeInteger(id) || (id as number) < 0) return fail(`vocab id of ${JSON.stringify(token)} is not an id`);
      vocab.set(token, id as number);
    }
    const unkToken = typeof model['unk_token'] === 'string' ? model['unk_token'] : tokenName('unk_token', '[UNK]');
    const idOf = makeIdLookup(specialTokens, vocab, tokenizerPath);
    const maxChars = model['max_input_chars_per_word'];
    const prefix = model['continuing_subword_prefix'];
    const description = checked({
      kind,
      specialTokens,
      vocab,
      unkToken,
      unkId: idOf(unkToken, 'unk_token'),
      prefix: typeof prefix === 'string' ? prefix : '##',
      maxCharsPerWord: typeof maxChars === 'number' && maxChars > 0 ? maxChars : 100,
      options: bertOptions(tokenizerConfig, tokenizer['normalizer']),
      clsId: idOf(tokenName('cls_token', defaults.cls), 'cls_token'),
      sepId: idOf(tokenName('sep_token', defaults.sep), 'sep_token'),
      padId: idOf(tokenName('pad_token', defaults.pad), 'pad_token'),
      fingerprint,
    });
    if (cacheDir !== undefined) writeCachedDescription(cacheDir, description);
    return description;
  }

  const vocabRaw = model['vocab'];
  if (!Array.isArray(vocabRaw)) return fail('Unigram "vocab" must be an array of [piece, score]');
  const entries: Array<readonly [string, number]> = vocabRaw;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      return fail(`Unigram vocab entry ${i} is not [piece, score]`);
    }
  }
  if (model['byte_fallback'] === true) return fail('Unigram byte_fallback is not supported (the slow XLM-R tokenizer has none)');
  const unkId = model['unk_id'];
  if (!Number.isSafeInteger(unkId) || (unkId as number) < 0 || (unkId as number) >= entries.length) {
    return fail(`Unigram "unk_id" ${JSON.stringify(unkId)} is not an id of the vocab`);
  }
  const vocab = new Map<string, number>();
  for (const t of specialTokens) vocab.set(t.content, t.id);
  const idOf = makeIdLookup(specialTokens, vocab, tokenizerPath);
  const description = checked({
    kind,
    specialTokens,
    pieces: packPieces(entries),
    unkId: unkId as number,
    charsmap: findCharsmap(tokenizer['normalizer']),
    clsId: idOf(tokenName('cls_token', defaults.cls), 'cls_token'),
    sepId: idOf(tokenName('sep_token', defaults.sep), 'sep_token'),
    padId: idOf(tokenName('pad_token', defaults.pad), 'pad_token'),
    fingerprint,
  });
  if (cacheDir !== undefined) writeCachedDescription(cacheDir, description);
  return description;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CheckpointError(path, `cannot read (${(err as Error).message})`, { cause: err });
  }
}

function parseObject(data: Buffer, path: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new CheckpointError(path, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!isObject(value)) throw new CheckpointError(path, 'not a JSON object');
  return value;
}

function optionalObject(data: Buffer | undefined, path: string): Json | undefined {
  return data === undefined ? undefined : parseObject(data, path);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A special token written as a string or as an AddedToken object `{content, …}`. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

function readAddedTokens(tokenizer: Json, fail: (msg: string) => never): SpecialToken[] {
  const raw = tokenizer['added_tokens'] ?? [];
  if (!Array.isArray(raw)) return fail('"added_tokens" must be an array');
  return raw.map((t: unknown, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string' || !Number.isSafeInteger(t['id'])) {
      return fail(`added_tokens[${i}] needs a string "content" and an integer "id"`);
    }
    return { content: t['content'], id: t['id'] as number, lstrip: t['lstrip'] === true, rstrip: t['rstrip'] === true };
  });
}

function makeIdLookup(
  specials: readonly SpecialToken[],
  vocab: ReadonlyMap<string, number>,
  path: string,
): (token: string, role: string) => number {
  return (token, role) => {
    const id = specials.find((t) => t.content === token)?.id ?? vocab.get(token);
    if (id === undefined) throw new CheckpointError(path, `the ${role} ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
}

/** The slow BertTokenizer's options: tokenizer_config.json first, else tokenizer.json's BertNormalizer. */
function bertOptions(config: Json | undefined, normalizer: unknown): BertOptions {
  const norm = isObject(normalizer) && normalizer['type'] === 'BertNormalizer' ? normalizer : undefined;
  const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
  const lowercase = bool(config?.['do_lower_case']) ?? bool(norm?.['lowercase']) ?? true;
  const accentsRaw = config !== undefined && 'strip_accents' in config ? config['strip_accents'] : norm?.['strip_accents'];
  return {
    lowercase,
    stripAccents: bool(accentsRaw) ?? null,
    chineseChars: bool(config?.['tokenize_chinese_chars']) ?? bool(norm?.['handle_chinese_chars']) ?? true,
    basicTokenize: bool(config?.['do_basic_tokenize']) ?? true,
  };
}

function findCharsmap(normalizer: unknown): string | null {
  if (!isObject(normalizer)) return null;
  if (normalizer['type'] === 'Precompiled' && typeof normalizer['precompiled_charsmap'] === 'string') {
    return normalizer['precompiled_charsmap'];
  }
  if (normalizer['type'] === 'Sequence' && Array.isArray(normalizer['normalizers'])) {
    for (const n of normalizer['normalizers']) {
      const found = findCharsmap(n);
      if (found !== null) return found;
    }
  }
  return null;
}

/** config.json's model_type, when present, must agree with the tokenizer's model. */
function checkModelType(config: Json | undefined, path: string, kind: TokenizerKind): void {
  const type = config?.['model_type'];
  if (typeof type !== 'string') return;
  const expected = type === 'xlm-roberta' ? 'xlm-roberta' : type === 'bert' ? 'bert' : undefined;
  if (expected === undefined) {
    throw new CheckpointError(path, `model_type ${JSON.stringify(type)} is not supported (bert or xlm-roberta)`);
  }
  if (expected !== kind) {
    throw new CheckpointError(
      path,
      `model_type ${JSON.stringify(type)} does not match tokenizer.json's ${kind === 'bert' ? 'WordPiece' : 'Unigram'} model`,
    );
  }
}
