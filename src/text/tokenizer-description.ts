/** What a tokenizer is built from: the plain description that tokenizer-files.ts reads from a folder. */
import type { BertOptions } from './bert-wordpiece.js';
import type { SpecialToken } from './special-tokens.js';
import type { UnigramPieces } from './unigram-pieces.js';

export type TokenizerKind = 'bert' | 'xlm-roberta';

interface CommonDescription {
  readonly specialTokens: readonly SpecialToken[];
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly fingerprint: string;
}

export interface BertDescription extends CommonDescription {
  readonly kind: 'bert';
  readonly options: BertOptions;
  readonly vocab: ReadonlyMap<string, number>;
  readonly unkToken: string;
  readonly unkId: number;
  readonly prefix: string;
  readonly maxCharsPerWord: number;
}

export interface XlmRobertaDescription extends CommonDescription {
  readonly kind: 'xlm-roberta';
  readonly pieces: UnigramPieces;
  readonly unkId: number;
  /** Base64 `precompiled_charsmap`, or null when tokenizer.json has no Precompiled normalizer. */
  readonly charsmap: string | null;
}

export type TokenizerDescription = BertDescription | XlmRobertaDescription;
