import { describe, expect, test } from 'vitest';
import { VectorMatrix, scoreVectors, strideOf, topK } from '../../src/store/exact-scan.js';
import { prng } from '../../src/util/prng.js';

function randomUnit(n: number, dim: number, seed: number): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (out[r * dim + d] = rand() - 0.5) ** 2;
    for (let d = 0; d < dim; d++) out[r * dim + d]! /= Math.sqrt(norm);
  }
  return out;
}

const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('the exact inner-product scan', () => {
  test.each([32, 768, 1024, 100])('dim %i: scores equal a float64 reference within float32 rounding', (dim) => {
    const rows = randomUnit(50, dim, dim);
    const query = randomUnit(1, dim, 99);
    const matrix = new VectorMatrix(dim);
    matrix.append(rows);
    const scores = matrix.scores(query);
    for (let r = 0; r < 50; r++) {
      let ref = 0;
      for (let d = 0; d < dim; d++) ref += query[d]! * rows[r * dim + d]!;
      expect(Math.abs(scores[r]! - ref)).toBeLessThan(1e-6);
    }
    expect(strideOf(dim) % 16).toBe(0);
  });

  test('a score does not depend on which rows share the scan, how they were appended, or their order', () => {
    const dim = 768;
    const rows = randomUnit(40, dim, 1);
    const query = randomUnit(1, dim, 2);
    const whole = new VectorMatrix(dim);
    whole.append(rows);
    const pieces = new VectorMatrix(dim);
    for (let r = 0; r < 40; r += 7) pieces.append(rows.slice(r * dim, Math.min(40, r + 7) * dim));
    expect(bits(pieces.scores(query))).toBe(bits(whole.scores(query)));
    const reversed = Array.from({ length: 40 }, (_, r) => rows.slice((39 - r) * dim, (40 - r) * dim));
    const alone = scoreVectors(query, reversed).reverse();
    expect(bits(alone)).toBe(bits(whole.scores(query)));
  });

  test('topK: best first, ties by id, filtered rows never ranked, NaN last', () => {
    const scores = Float32Array.from([0.5, 0.9, 0.5, 0.9, NaN, 0.1, 0.5]);
    const ids = ['e', 'b', 'a', 'a2', 'n', 'z', 'c'];
    expect(topK(scores, ids, 10).map((r) => ids[r.row])).toEqual(['a2', 'b', 'a', 'c', 'e', 'z', 'n']);
    expect(topK(scores, ids, 3).map((r) => ids[r.row])).toEqual(['a2', 'b', 'a']);
    expect(topK(scores, ids, 3, (row) => row !== 3).map((r) => ids[r.row])).toEqual(['b', 'a', 'c']);
    expect(topK(scores, ids, 0)).toEqual([]);
  });

  test('topK agrees with a full sort on random data', () => {
    const rand = prng(5);
    const n = 2000;
    const scores = Float32Array.from({ length: n }, () => Math.round(rand() * 50) / 50); // many ties
    const ids = Array.from({ length: n }, (_, i) => `id${(i * 7919) % n}`);
    const full = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || (ids[a]! < ids[b]! ? -1 : 1));
    expect(topK(scores, ids, 25).map((r) => r.row)).toEqual(full.slice(0, 25));
  });
});
