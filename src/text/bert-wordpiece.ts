/**
 * The slow `BertTokenizer` (spec §8.1): transformers' per-character lower-casing, `BasicTokenizer`
 * and greedy longest-match-first WordPiece, over the vocabulary of tokenizer.json.
 *
 * Why not tokenizers.js's BertNormalizer + BertPreTokenizer: it keeps unassigned code points
 * (category Cn, which Python drops as "control"), does not space astral CJK ideographs
 * (U+20000…, it tests UTF-16 units), lower-cases whole strings (final sigma "Σ" → "ς", where
 * the slow tokenizer lower-cases one character at a time → "σ") and skips the NFC step.
 * Character classes are tested on code points with the JS engine's Unicode tables; Python's
 * `unicodedata` may be an older Unicode version (3.11: 14.0), so code points assigned since then
 * can still differ (the slow tokenizer drops them as unassigned).
 */

export interface BertOptions {
  /** `do_lower_case` (tokenizer_config.json). */
  readonly lowercase: boolean;
  /** `strip_accents`: null follows `lowercase`. */
  readonly stripAccents: boolean | null;
  /** `tokenize_chinese_chars`. */
  readonly chineseChars: boolean;
  /** `do_basic_tokenize`: false runs WordPiece on whitespace-split text only. */
  readonly basicTokenize: boolean;
}

export interface WordPieceVocab {
  readonly vocab: ReadonlyMap<string, number>;
  readonly unkToken: string;
  readonly prefix: string;
  readonly maxCharsPerWord: number;
}

const DROPPED = /[\0\uFFFD]|(?![\t\n\r])\p{C}/gu;
const WHITESPACE = /[ \t\n\r\p{Zs}]/gu;
const CJK =
  /([\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}])/gu;
/** Python's `str.split()` separators (`str.isspace()`). */
const PY_SPLIT = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
const NONSPACING_MARKS = /\p{Mn}/gu;
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;

/**
 * Python's `str.lower()` applied to each character on its own, as transformers does before
 * splitting on special tokens: a lone "Σ" lower-cases to "σ" (never the final "ς"), and final
 * sigma is the only context-dependent rule in JS's locale-free `toLowerCase`.
 */
export function lowerEachChar(text: string): string {
  return text.replaceAll('\u03A3', '\u03C3').toLowerCase();
}

export class BertWordPiece {
  constructor(
    private readonly options: BertOptions,
    private readonly wordpiece: WordPieceVocab,
  ) {}

  /** Word pieces of one chunk of text that holds no special token. */
  tokenize(text: string): string[] {
    const words = this.options.basicTokenize ? this.basicTokenize(text) : splitPython(text);
    const pieces: string[] = [];
    for (const word of words) this.wordPieces(word, pieces);
    return pieces;
  }

  /** transformers' `BasicTokenizer.tokenize`. */
  basicTokenize(text: string): string[] {
    const o = this.options;
    let clean = text.replace(DROPPED, '').replace(WHITESPACE, ' ');
    if (o.chineseChars) clean = clean.replace(CJK, ' $1 ');
    clean = clean.normalize('NFC');
    const out: string[] = [];
    for (let word of splitPython(clean)) {
      if (o.lowercase) {
        word = word.toLowerCase();
        if (o.stripAccents !== false) word = stripAccents(word);
      } else if (o.stripAccents === true) {
        word = stripAccents(word);
      }
      splitOnPunctuation(word, out);
    }
    return out;
  }

  private wordPieces(word: string, out: string[]): void {
    const { vocab, unkToken, prefix, maxCharsPerWord } = this.wordpiece;
    const chars = Array.from(word);
    if (chars.length > maxCharsPerWord) {
      out.push(unkToken);
      return;
    }
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const sub = (start > 0 ? prefix : '') + chars.slice(start, end).join('');
        if (vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === undefined) {
        out.push(unkToken);
        return;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...pieces);
  }
}

function splitPython(text: string): string[] {
  return text.split(PY_SPLIT).filter((w) => w.length > 0);
}

function stripAccents(word: string): string {
  return word.normalize('NFD').replace(NONSPACING_MARKS, '');
}

/** Every punctuation character becomes a word of its own (ASCII symbols count as punctuation). */
function splitOnPunctuation(word: string, out: string[]): void {
  let current = '';
  for (const ch of word) {
    if (PUNCTUATION.test(ch)) {
      if (current.length > 0) out.push(current);
      out.push(ch);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.length > 0) out.push(current);
}
