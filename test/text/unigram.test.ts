/**
 * The Unigram segmenter's piece lookup (packed pieces, open-addressing tables) matches exactly
 * what a plain Map from piece text to its first id gives, on vocabularies built to stress it:
 * duplicate spellings, excluded and empty pieces, surrogate pairs, many pieces sharing prefixes.
 */
import { describe, expect, test } from 'vitest';
import { UnigramModel } from '../../src/text/unigram.js';
import { packPieces, pieceAt } from '../../src/text/unigram-pieces.js';

/** The straightforward segmenter: the same Viterbi over a Map lookup of every substring. */
function referenceSegment(pieces: [string, number][], unkId: number, excluded: Set<number>, s: string): number[] {
  const ids = new Map<string, number>();
  let min = Infinity;
  pieces.forEach(([p, score], id) => {
    if (excluded.has(id) || id === unkId || p.length === 0) return;
    if (!ids.has(p)) ids.set(p, id);
    min = Math.min(min, Math.fround(score));
  });
  const unk = Math.fround((min === Infinity ? 0 : min) - 10);
  const n = s.length;
  const best = new Float32Array(n + 1);
  const from = new Int32Array(n + 1).fill(-1);
  const bestId = new Int32Array(n + 1);
  from[0] = 0;
  const next = (i: number): number => (/[\uD800-\uDBFF]/.test(s[i]!) && /[\uDC00-\uDFFF]/.test(s[i + 1] ?? '') ? i + 2 : i + 1);
  for (let start = 0; start < n; start = next(start)) {
    const charEnd = next(start);
    let single = false;
    for (let end = start + 1; end <= n; end++) {
      const id = ids.get(s.slice(start, end));
      if (id === undefined) continue;
      const c = Math.fround(pieces[id]![1]) + best[start]!;
      if (from[end] === -1 || c > best[end]!) [best[end], from[end], bestId[end]] = [c, start, id];
      if (end === charEnd) single = true;
    }
    if (!single) {
      const c = Math.fround(unk + best[start]!);
      if (from[charEnd] === -1 || c > best[charEnd]!) [best[charEnd], from[charEnd], bestId[charEnd]] = [c, start, unkId];
    }
  }
  const out: number[] = [];
  for (let end = n; end > 0; end = from[end]!) out.push(bestId[end]!);
  return out.reverse().filter((id, i, a) => !(id === unkId && a[i - 1] === unkId));
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

describe('UnigramModel lookups', () => {
  test('first spelling wins, excluded, unknown and empty pieces never match', () => {
    const pieces: [string, number][] = [['<s>', 0], ['<unk>', 0], ['ab', -1], ['a', -2], ['ab', -0.5], ['', -0.1], ['b', -2], ['abc', -0.2]];
    const model = new UnigramModel(packPieces(pieces), 1, new Set([0, 7]));
    expect(model.segment('ab').map((p) => p.id)).toEqual([2]); // not the later, better-scored duplicate 4
    expect(model.segment('abc').map((p) => p.id)).toEqual([2, 1]); // 'abc' is excluded; 'c' is unknown
    expect(model.segment('<s>').map((p) => p.id)).toEqual([1]); // control pieces never match text
  });

  test('random vocabularies and texts: the same ids as a Map lookup', () => {
    const random = rng(7);
    const alphabet = ['a', 'b', 'c', '▁', 'é', '\uD83D\uDE00', '\uD83D\uDE01', 'z'];
    const word = (max: number): string => Array.from({ length: 1 + Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let round = 0; round < 20; round++) {
      const pieces: [string, number][] = [['<unk>', 0]];
      const count = 5 + Math.floor(random() * 300);
      for (let i = 0; i < count; i++) pieces.push([random() < 0.02 ? '' : word(6), -random() * 12]);
      for (let i = 0; i < 10; i++) pieces.push([pieces[1 + Math.floor(random() * count)]![0], -random() * 12]); // duplicates
      const excluded = new Set(Array.from({ length: 3 }, () => Math.floor(random() * pieces.length)));
      const model = new UnigramModel(packPieces(pieces), 0, excluded);
      for (let t = 0; t < 30; t++) {
        const text = word(40);
        expect(model.segment(text).map((p) => p.id), `round ${round}, text ${JSON.stringify(text)}`).toEqual(referenceSegment(pieces, 0, excluded, text));
      }
    }
  });

  test('packed pieces give back every piece and score', () => {
    const pieces: [string, number][] = [['▁the', -3.5], ['', 0], ['\uD83D\uDE00x', -7.25]];
    const packed = packPieces(pieces);
    expect(pieces.map((_, id) => pieceAt(packed, id))).toEqual(pieces);
  });
});
