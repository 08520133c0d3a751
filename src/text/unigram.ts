/**
 * SentencePiece unigram segmentation (the optimised Viterbi of `unigram_model.cc`), over the
 * piece list and scores of tokenizer.json's `Unigram` model.
 *
 * Why not tokenizers.js's Unigram: it puts the special tokens (`<s>`, `<mask>`, …, score 0, the
 * best possible) into its trie, so text that normalises to "<s>" would become a control id, and
 * it scores paths in float64 with another update order. SentencePiece never matches control
 * pieces, stores path scores as float32 and updates each end position by start, then length;
 * equal-scoring segmentations ("ll"+"l" vs "l"+"ll") are decided by exactly that arithmetic.
 */

export interface Piece {
  /** The piece's surface in the normalised text; for unknown runs, the characters themselves. */
  readonly token: string;
  readonly id: number;
}

/** SentencePiece's penalty below the lowest piece score for an unknown character. */
const UNK_PENALTY = 10;

export class UnigramModel {
  private readonly ids = new Map<string, number>();
  /** float32 scores indexed by id. */
  private readonly scores: Float32Array;
  /** Longest piece (UTF-16 units) by its first two UTF-16 units: bounds the lookups per position. */
  private readonly maxLengthByPrefix = new Map<number, number>();
  private readonly unkScore: number;

  /**
   * @param pieces `[piece, score]` by id, as in tokenizer.json.
   * @param unkId id of the unknown piece.
   * @param excludedIds ids never matched from text (the special tokens).
   */
  constructor(
    pieces: ReadonlyArray<readonly [string, number]>,
    readonly unkId: number,
    excludedIds: ReadonlySet<number>,
  ) {
    this.scores = new Float32Array(pieces.length);
    let minScore = Infinity;
    for (let id = 0; id < pieces.length; id++) {
      const [piece, score] = pieces[id]!;
      this.scores[id] = score;
      if (excludedIds.has(id) || id === unkId || piece.length === 0) continue;
      if (!this.ids.has(piece)) this.ids.set(piece, id);
      const key = prefixKey(piece, 0);
      if ((this.maxLengthByPrefix.get(key) ?? 0) < piece.length) this.maxLengthByPrefix.set(key, piece.length);
      if (this.scores[id]! < minScore) minScore = this.scores[id]!;
    }
    this.unkScore = Math.fround((minScore === Infinity ? 0 : minScore) - UNK_PENALTY);
  }

  /** Segments one normalised string (with "▁" for spaces). Runs of unknown characters are fused. */
  segment(normalized: string): Piece[] {
    const n = normalized.length;
    if (n === 0) return [];
    const bestScore = new Float32Array(n + 1);
    const startsAt = new Int32Array(n + 1).fill(-1);
    const bestId = new Int32Array(n + 1);
    startsAt[0] = 0;

    for (let start = 0; start < n; start = nextCodePoint(normalized, start)) {
      const base = bestScore[start]!;
      const charEnd = nextCodePoint(normalized, start);
      let hasSingleChar = false;
      const maxLen = Math.min(
        Math.max(charEnd - start, this.maxLengthByPrefix.get(prefixKey(normalized, start)) ?? 0),
        n - start,
      );
      for (let len = 1; len <= maxLen; len++) {
        const id = this.ids.get(normalized.slice(start, start + len));
        if (id === undefined) continue;
        const end = start + len;
        // In unigram_model.cc this sum is a double (the piece score goes through a double
        // expression) compared with the float stored so far; exact ties are rare but real.
        const candidate = this.scores[id]! + base;
        if (startsAt[end] === -1 || candidate > bestScore[end]!) {
          bestScore[end] = candidate;
          startsAt[end] = start;
          bestId[end] = id;
        }
        if (end === charEnd) hasSingleChar = true;
      }
      if (!hasSingleChar) {
        // float + float stays float in C++.
        const candidate = Math.fround(this.unkScore + base);
        if (startsAt[charEnd] === -1 || candidate > bestScore[charEnd]!) {
          bestScore[charEnd] = candidate;
          startsAt[charEnd] = start;
          bestId[charEnd] = this.unkId;
        }
      }
    }

    const reversed: Piece[] = [];
    for (let end = n; end > 0; end = startsAt[end]!) {
      reversed.push({ token: normalized.slice(startsAt[end]!, end), id: bestId[end]! });
    }
    reversed.reverse();

    const out: Piece[] = [];
    for (const piece of reversed) {
      const last = out[out.length - 1];
      if (piece.id === this.unkId && last !== undefined && last.id === this.unkId) {
        out[out.length - 1] = { token: last.token + piece.token, id: this.unkId };
      } else {
        out.push(piece);
      }
    }
    return out;
  }
}

/** The first two UTF-16 units at `i` as one number (one unit when the string ends there). */
function prefixKey(s: string, i: number): number {
  return i + 1 < s.length ? s.charCodeAt(i) * 0x10000 + s.charCodeAt(i + 1) : s.charCodeAt(i) * 0x10000 + 0xffff;
}

function nextCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
  }
  return i + 1;
}
