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

import { type UnigramPieces, pieceStart } from './unigram-pieces.js';

export interface Piece {
  /** The piece's surface in the normalised text; for unknown runs, the characters themselves. */
  readonly token: string;
  readonly id: number;
}

/** SentencePiece's penalty below the lowest piece score for an unknown character. */
const UNK_PENALTY = 10;

/** 32-bit FNV-1a over UTF-16 units, one unit at a time (so a growing substring costs one step per unit). */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const fnvStep = (h: number, unit: number): number => Math.imul(h ^ unit, FNV_PRIME);
/** Spreads FNV's weak low bits before they index the table. */
const finish = (h: number): number => (h ^ (h >>> 16)) >>> 0;

export class UnigramModel {
  private readonly pieces: UnigramPieces;
  /** float32 scores indexed by id. */
  private readonly scores: Float32Array;
  /**
   * Open-addressing table of the matchable pieces by their text: the piece id (−1 = empty) and
   * its finished hash. A piece spelled twice keeps its first id.
   */
  private readonly slotIds: Int32Array;
  private readonly slotHashes: Uint32Array;
  /** Both tables' size − 1 (a power of two, at least twice the pieces). */
  private readonly mask: number;
  /** Longest piece (UTF-16 units) by its first two UTF-16 units (see prefixKey); length 0 = empty slot. */
  private readonly prefixKeys: Uint32Array;
  private readonly prefixMaxLengths: Uint32Array;
  private readonly unkScore: number;

  /**
   * @param pieces the vocabulary by id, as in tokenizer.json.
   * @param unkId id of the unknown piece.
   * @param excludedIds ids never matched from text (the special tokens).
   */
  constructor(
    pieces: UnigramPieces,
    readonly unkId: number,
    excludedIds: ReadonlySet<number>,
  ) {
    const count = pieces.ends.length;
    this.pieces = pieces;
    this.scores = Float32Array.from(pieces.scores);
    const size = tableSize(count);
    this.slotIds = new Int32Array(size).fill(-1);
    this.slotHashes = new Uint32Array(size);
    this.mask = size - 1;
    this.prefixKeys = new Uint32Array(size);
    this.prefixMaxLengths = new Uint32Array(size);
    let minScore = Infinity;
    for (let id = 0; id < count; id++) {
      const start = pieceStart(pieces, id);
      const length = pieces.ends[id]! - start;
      if (excludedIds.has(id) || id === unkId || length === 0) continue;
      let h = FNV_OFFSET;
      for (let i = start; i < start + length; i++) h = fnvStep(h, pieces.text.charCodeAt(i));
      this.insert(finish(h), id, start, length);
      this.raisePrefixBound(prefixKey(pieces.text, start, start + length), length);
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
      const maxLen = Math.min(Math.max(charEnd - start, this.prefixBound(prefixKey(normalized, start))), n - start);
      let h = FNV_OFFSET;
      for (let len = 1; len <= maxLen; len++) {
        h = fnvStep(h, normalized.charCodeAt(start + len - 1));
        const id = this.find(finish(h), normalized, start, len);
        if (id < 0) continue;
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

  /** The id of the piece spelled s[start, start + length) (hash `h`), or −1. */
  private find(h: number, s: string, start: number, length: number): number {
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.slotIds[slot]!;
      if (id < 0) return -1;
      if (this.slotHashes[slot] === h && this.spells(id, s, start, length)) return id;
    }
  }

  private insert(h: number, id: number, start: number, length: number): void {
    let slot = h & this.mask;
    for (; this.slotIds[slot]! >= 0; slot = (slot + 1) & this.mask) {
      if (this.slotHashes[slot] === h && this.spells(this.slotIds[slot]!, this.pieces.text, start, length)) return; // first id wins
    }
    this.slotIds[slot] = id;
    this.slotHashes[slot] = h;
  }

  /** Whether piece `id` is exactly s[start, start + length). */
  private spells(id: number, s: string, start: number, length: number): boolean {
    const { text, ends } = this.pieces;
    const begin = pieceStart(this.pieces, id);
    if (ends[id]! - begin !== length) return false;
    for (let i = 0; i < length; i++) if (text.charCodeAt(begin + i) !== s.charCodeAt(start + i)) return false;
    return true;
  }

  private prefixBound(key: number): number {
    for (let slot = prefixSlot(key) & this.mask; ; slot = (slot + 1) & this.mask) {
      const length = this.prefixMaxLengths[slot]!;
      if (length === 0) return 0;
      if (this.prefixKeys[slot] === key) return length;
    }
  }

  private raisePrefixBound(key: number, length: number): void {
    let slot = prefixSlot(key) & this.mask;
    while (this.prefixMaxLengths[slot]! !== 0 && this.prefixKeys[slot] !== key) slot = (slot + 1) & this.mask;
    this.prefixKeys[slot] = key;
    if (this.prefixMaxLengths[slot]! < length) this.prefixMaxLengths[slot] = length;
  }
}

/** A power of two at least twice `count` (the tables stay at most half full). */
function tableSize(count: number): number {
  let size = 16;
  while (size < 2 * count) size *= 2;
  return size;
}

function prefixSlot(key: number): number {
  return finish(Math.imul(key, 0x9e3779b1));
}

/** The first two UTF-16 units at `i` as one number (one unit when the string, or s[…, end), ends there). */
function prefixKey(s: string, i: number, end = s.length): number {
  return i + 1 < end ? s.charCodeAt(i) * 0x10000 + s.charCodeAt(i + 1) : s.charCodeAt(i) * 0x10000 + 0xffff;
}

function nextCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
  }
  return i + 1;
}
