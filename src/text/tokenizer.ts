/**
 * Text → token ids with the upstream (slow Python tokenizer) semantics, spec §8:
 * BERT WordPiece for bge-base, SentencePiece unigram with the fairseq id layout for bge-m3.
 * No padding here; the length policy (error or truncation) is the caller's choice per call.
 */
import { HF_TEXT_FILES } from '../checkpoint/hf-folder.js';
import { join } from 'node:path';
import { CheckpointError, ConfigError, InputError, LimitError } from '../errors.js';
import { BertWordPiece, lowerEachChar } from './bert-wordpiece.js';
import { PrecompiledCharsmap } from './precompiled-charsmap.js';
import { SentencePieceNormalizer } from './sentencepiece-normalizer.js';
import { SpecialTokenMatcher } from './special-tokens.js';
import { type ReadTokenizerOptions, readTokenizerDescription, type TokenizerDescription, type TokenizerKind } from './tokenizer-files.js';
import { UnigramModel, type Piece } from './unigram.js';

export type { TokenizerKind } from './tokenizer-files.js';

export interface TokenizeOptions {
  /** Most tokens allowed, CLS and SEP included. */
  maxTokens?: number;
  /**
   * When the text needs more than maxTokens: false (default) → LimitError naming the input, the
   * token count and the limit; true → cut the word pieces and keep [CLS] … [SEP].
   */
  truncate?: boolean;
  /** How errors name this input, e.g. 'input 3 (text)'. */
  inputName?: string;
}

/** Tokenises one chunk of text that holds no special token. */
type ChunkTokenizer = (chunk: string, inputName: string) => Piece[];

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class TextTokenizer {
  readonly kind: TokenizerKind;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** sha256 over the tokenizer files' bytes, for provenance. */
  readonly fingerprint: string;
  private readonly special: SpecialTokenMatcher;
  private readonly lowercaseOutsideSpecials: boolean;
  private readonly tokenizeChunk: ChunkTokenizer;
  private readonly clsName: string;
  private readonly sepName: string;

  private constructor(d: TokenizerDescription, source: string) {
    this.kind = d.kind;
    this.clsId = d.clsId;
    this.sepId = d.sepId;
    this.padId = d.padId;
    this.fingerprint = d.fingerprint;
    this.special = new SpecialTokenMatcher(d.specialTokens);
    const nameOf = (id: number): string => d.specialTokens.find((t) => t.id === id)?.content ?? `id ${id}`;
    this.clsName = nameOf(d.clsId);
    this.sepName = nameOf(d.sepId);

    if (d.kind === 'bert') {
      const wp = new BertWordPiece(d.options, {
        vocab: d.vocab,
        unkToken: d.unkToken,
        prefix: d.prefix,
        maxCharsPerWord: d.maxCharsPerWord,
      });
      this.lowercaseOutsideSpecials = d.options.lowercase;
      this.tokenizeChunk = (chunk) => wp.tokenize(chunk).map((token) => ({ token, id: d.vocab.get(token) ?? d.unkId }));
    } else {
      let charsmap: PrecompiledCharsmap | null = null;
      if (d.charsmap !== null) {
        try {
          charsmap = PrecompiledCharsmap.fromBase64(d.charsmap);
        } catch (err) {
          throw new CheckpointError(source, `invalid precompiled_charsmap (${(err as Error).message})`, { cause: err });
        }
      }
      const normalizer = new SentencePieceNormalizer(charsmap);
      const excluded = new Set(d.specialTokens.map((t) => t.id));
      const unigram = new UnigramModel(d.pieces, d.unkId, excluded);
      this.lowercaseOutsideSpecials = false;
      this.tokenizeChunk = (chunk, inputName) => {
        // Python cannot even hand such a string to SentencePiece (it is not encodable as UTF-8).
        const bad = UNPAIRED_SURROGATE.exec(chunk);
        if (bad !== null) {
          throw new InputError(inputName, `text is not valid Unicode: unpaired surrogate U+${bad[0].charCodeAt(0).toString(16).toUpperCase()}`);
        }
        return unigram.segment(normalizer.normalize(chunk));
      };
    }
  }

  /** Reads tokenizer.json (+ tokenizer_config.json, special_tokens_map.json, config.json) from an HF folder. */
  /** `options.cacheDir`: where compact copies of parsed XLM-R tokenizers are kept (see description-cache.ts). */
  static async fromDir(dir: string, options: ReadTokenizerOptions = {}): Promise<TextTokenizer> {
    return new TextTokenizer(await readTokenizerDescription(dir, options), join(dir, HF_TEXT_FILES.tokenizerJson));
  }

  /** Token ids with CLS first and SEP last, no padding. */
  encode(text: string, options: TokenizeOptions = {}): number[] {
    const inputName = options.inputName ?? 'text';
    const maxTokens = options.maxTokens;
    if (maxTokens !== undefined && (!Number.isSafeInteger(maxTokens) || maxTokens < 2)) {
      throw new ConfigError(
        `maxTokens must be an integer of at least 2 (room for ${this.clsName} and ${this.sepName}), got ${String(maxTokens)}`,
      );
    }
    const ids = this.pieces(text, inputName).map((p) => p.id);
    if (maxTokens !== undefined && ids.length + 2 > maxTokens) {
      if (options.truncate !== true) {
        throw new LimitError(
          inputName,
          'tokens',
          ids.length + 2,
          maxTokens,
          `${ids.length} text tokens plus ${this.clsName} and ${this.sepName}; shorten the text or allow truncation`,
        );
      }
      ids.length = maxTokens - 2;
    }
    return [this.clsId, ...ids, this.sepId];
  }

  /** Token strings without CLS/SEP (for tests and debugging); unknown XLM-R runs keep their surface. */
  tokens(text: string): string[] {
    return this.pieces(text, 'text').map((p) => p.token);
  }

  private pieces(text: unknown, inputName: string): Piece[] {
    if (typeof text !== 'string') {
      throw new InputError(inputName, `text must be a string, got ${text === null ? 'null' : typeof text}`);
    }
    const prepared = this.lowercaseOutsideSpecials ? this.special.mapOutside(text, lowerEachChar) : text;
    const out: Piece[] = [];
    for (const segment of this.special.split(prepared)) {
      if ('special' in segment) out.push({ token: segment.special.content, id: segment.special.id });
      else for (const piece of this.tokenizeChunk(segment.text, inputName)) out.push(piece);
    }
    return out;
  }
}
