/**
 * tokenizer.json's normalizer, pre-tokenizer and post-processor, checked against what our
 * tokenizers implement. We follow the slow tokenizers, which never read these settings; a file
 * that declares something else (NFKC instead of the charsmap, a Whitespace pre-tokenizer, no
 * [CLS]) describes a tokenizer that would give other ids, so it is refused with the setting
 * named, never silently ignored.
 */
import { CheckpointError } from '../errors.js';

type Json = Record<string, unknown>;
type TokenizerKind = 'bert' | 'xlm-roberta';

interface SpecialIds {
  readonly clsId: number;
  readonly sepId: number;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const SUPPORTED: Record<TokenizerKind, Record<'normalizer' | 'pre_tokenizer' | 'post_processor', string>> = {
  bert: {
    normalizer: 'BertNormalizer with clean_text',
    pre_tokenizer: 'BertPreTokenizer',
    post_processor: 'TemplateProcessing "[CLS] $A [SEP]" or BertProcessing',
  },
  'xlm-roberta': {
    normalizer: "Precompiled, alone or followed by Replace(' {2,}', ' ')",
    pre_tokenizer: 'Metaspace "▁" that prepends it',
    post_processor: 'TemplateProcessing "<s> $A </s>" or RobertaProcessing',
  },
};

/** Throws a CheckpointError naming the first setting of `tokenizer` that we do not implement. */
export function checkPipelineSettings(tokenizer: Json, kind: TokenizerKind, ids: SpecialIds, path: string): void {
  const checks = {
    normalizer: kind === 'bert' ? isBertNormalizer : isSentencePieceNormalizer,
    pre_tokenizer: kind === 'bert' ? (v: unknown) => isObject(v) && v['type'] === 'BertPreTokenizer' : isMetaspace,
    post_processor: (v: unknown) => addsClsAndSep(v, ids),
  } as const;
  for (const [setting, accepts] of Object.entries(checks) as [keyof typeof checks, (v: unknown) => boolean][]) {
    const value = tokenizer[setting];
    if (!accepts(value)) {
      throw new CheckpointError(
        path,
        `tokenizer.json's ${setting} ${describe(value)} is not implemented (supported for ${kind === 'bert' ? 'WordPiece' : 'Unigram'} models: ${SUPPORTED[kind][setting]})`,
      );
    }
  }
}

function isBertNormalizer(v: unknown): boolean {
  return isObject(v) && v['type'] === 'BertNormalizer' && v['clean_text'] !== false;
}

function isSentencePieceNormalizer(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (v['type'] === 'Precompiled') return typeof v['precompiled_charsmap'] === 'string';
  if (v['type'] !== 'Sequence' || !Array.isArray(v['normalizers'])) return false;
  const [first, ...rest] = v['normalizers'] as unknown[];
  // SentencePiece's remove_extra_whitespaces already does what the fast tokenizer's Replace emulates.
  return isSentencePieceNormalizer(first) && (rest.length === 0 || (rest.length === 1 && isCollapseSpaces(rest[0])));
}

function isCollapseSpaces(v: unknown): boolean {
  return isObject(v) && v['type'] === 'Replace' && isObject(v['pattern']) && v['pattern']['Regex'] === ' {2,}' && v['content'] === ' ';
}

function isMetaspace(v: unknown): boolean {
  if (!isObject(v) || v['type'] !== 'Metaspace' || v['replacement'] !== '\u2581') return false;
  if (v['split'] === false) return false;
  // tokenizers < 0.15 write add_prefix_space; later versions prepend_scheme.
  return v['prepend_scheme'] === undefined ? v['add_prefix_space'] !== false : v['prepend_scheme'] === 'always';
}

/** Single sequences become [CLS] + tokens + [SEP], with our cls/sep ids. */
function addsClsAndSep(v: unknown, ids: SpecialIds): boolean {
  if (!isObject(v)) return false;
  if (v['type'] === 'BertProcessing' || v['type'] === 'RobertaProcessing') {
    const idOf = (pair: unknown): unknown => (Array.isArray(pair) ? pair[1] : undefined);
    return idOf(v['cls']) === ids.clsId && idOf(v['sep']) === ids.sepId;
  }
  if (v['type'] !== 'TemplateProcessing' || !Array.isArray(v['single']) || !isObject(v['special_tokens'])) return false;
  const specials = v['special_tokens'];
  const specialId = (piece: unknown): number | undefined => {
    if (!isObject(piece) || !isObject(piece['SpecialToken'])) return undefined;
    const entry = specials[String(piece['SpecialToken']['id'])];
    return isObject(entry) && Array.isArray(entry['ids']) && entry['ids'].length === 1 ? (entry['ids'][0] as number) : undefined;
  };
  const single = v['single'] as unknown[];
  return (
    single.length === 3 &&
    specialId(single[0]) === ids.clsId &&
    isObject(single[1]) &&
    isObject(single[1]['Sequence']) &&
    single[1]['Sequence']['id'] === 'A' &&
    specialId(single[2]) === ids.sepId
  );
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (isObject(v) && typeof v['type'] === 'string') {
    if (v['type'] === 'Sequence') {
      const inner = (v['normalizers'] ?? v['pretokenizers'] ?? v['processors']) as unknown;
      return `Sequence[${Array.isArray(inner) ? inner.map(describe).join(', ') : '?'}]`;
    }
    return `"${v['type']}"`;
  }
  return JSON.stringify(v).slice(0, 80);
}
