import { describe, expect, it } from 'vitest';
import { queryMetrics, rankByScore, relevantInCorpus, reportCutoffs, scoreRankings, subsetRecall } from '../../src/eval/metrics.js';

const rel = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));
const L2 = Math.log2(3); // the discount at rank 2
const L4 = Math.log2(5); // the discount at rank 4

describe('metrics, checked against hand-computed values', () => {
  it('two relevant items at ranks 2 and 4', () => {
    const m = queryMetrics(['a', 'b', 'c', 'd'], rel({ b: 1, d: 1 }), [1, 2, 4, 10]);
    expect(m).toMatchObject({ ndcg_at_1: 0, map_at_1: 0, recall_at_1: 0, precision_at_1: 0, mrr_at_1: 0, cv_recall_at_1: 0 });
    // k=2: DCG = 1/log2(3); ideal DCG = 1 + 1/log2(3); AP = (1/2) / 2 relevant.
    expect(m['ndcg_at_2']).toBeCloseTo(1 / L2 / (1 + 1 / L2), 12);
    expect(m['ndcg_at_2']).toBeCloseTo(0.386853, 6);
    expect(m).toMatchObject({ map_at_2: 0.25, recall_at_2: 0.5, precision_at_2: 0.5, mrr_at_2: 0.5, cv_recall_at_2: 1 });
    // k=4: DCG = 1/log2(3) + 1/log2(5); AP = (1/2 + 2/4) / 2.
    expect(m['ndcg_at_4']).toBeCloseTo((1 / L2 + 1 / L4) / (1 + 1 / L2), 12);
    expect(m['ndcg_at_4']).toBeCloseTo(0.65092, 5);
    expect(m).toMatchObject({ map_at_4: 0.5, recall_at_4: 1, precision_at_4: 0.5, mrr_at_4: 0.5 });
    // k beyond the ranking: precision still divides by k (trec_eval's P_k).
    expect(m['precision_at_10']).toBe(0.2);
    expect(m['ndcg_at_10']).toBe(m['ndcg_at_4']);
  });

  it('graded relevance: gains are the grades, the ideal order is by grade', () => {
    const m = queryMetrics(['a', 'b', 'c'], rel({ a: 1, b: 2 }), [1, 3]);
    // ideal: b (2) then a (1); actual: a (1) then b (2).
    expect(m['ndcg_at_1']).toBeCloseTo(1 / 2, 12);
    expect(m['ndcg_at_3']).toBeCloseTo((1 + 2 / L2) / (2 + 1 / L2), 12);
    expect(m['ndcg_at_3']).toBeCloseTo(0.859719, 6);
    // MAP, recall and MRR ignore the grades.
    expect(m).toMatchObject({ map_at_3: 1, recall_at_3: 1, mrr_at_3: 1 });
  });

  it('a first hit at rank 1 scores 1 everywhere; the ideal DCG is cut at k', () => {
    const m = queryMetrics(['x', 'y'], rel({ x: 1, y: 1, z: 1 }), [1, 2]);
    expect(m).toMatchObject({ ndcg_at_1: 1, ndcg_at_2: 1, mrr_at_1: 1, precision_at_2: 1 });
    expect(m['recall_at_2']).toBeCloseTo(2 / 3, 12);
    expect(m['map_at_2']).toBeCloseTo(2 / 3, 12); // (1/1 + 2/2) / 3 relevant
  });

  it('ties are broken by id, ascending, whatever order the hits arrive in', () => {
    const hits = [
      { id: 'b', score: 0.5 },
      { id: 'c', score: 0.9 },
      { id: 'a', score: 0.5 },
      { id: 'B', score: 0.5 },
    ];
    expect(rankByScore(hits).map((h) => h.id)).toEqual(['c', 'B', 'a', 'b']);
    expect(rankByScore([...hits].reverse()).map((h) => h.id)).toEqual(['c', 'B', 'a', 'b']);
  });

  it('only relevant (> 0) judgements of items in the corpus count', () => {
    const corpus = new Set(['a', 'b']);
    expect([...relevantInCorpus(rel({ a: 1, b: 0, gone: 2, neg: -1 }), (id) => corpus.has(id))]).toEqual([['a', 1]]);
  });

  it('queries without a relevant item in the corpus are excluded from the means and counted', () => {
    const corpus = new Set(['a', 'b', 'c']);
    const run = scoreRankings(
      [
        { ranking: ['a', 'b'], relevance: rel({ a: 1 }) }, // hit at 1
        { ranking: ['a', 'b'], relevance: rel({ b: 1 }) }, // hit at 2
        { ranking: ['a', 'b'], relevance: rel({ missing: 1 }) }, // its only relevant item is not in the corpus
        { ranking: ['a', 'b'], relevance: rel({ c: 0 }) }, // judged, but not relevant
      ],
      (id) => corpus.has(id),
      [1, 10],
    );
    expect(run.scored).toBe(2);
    expect(run.withoutRelevant).toBe(2);
    expect(run.metrics['recall_at_1']).toBe(0.5);
    expect(run.metrics['mrr_at_10']).toBe(0.75);
    expect(run.metrics['ndcg_at_10']).toBeCloseTo((1 + 1 / L2) / 2, 12);
  });

  it("CIRR's Recall_subset@K ranks only the set's members, in the full ranking's order", () => {
    const ranking = ['x1', 'm1', 'x2', 'm2', 'target', 'm3'];
    const members = ['m1', 'm2', 'target', 'm3', 'm4'];
    expect(subsetRecall(ranking, members, 'target', [1, 2, 3])).toEqual({ recall_subset_at_1: 0, recall_subset_at_2: 0, recall_subset_at_3: 1 });
    // a target that was never indexed is never found
    expect(subsetRecall(['m1'], members, 'm4', [3])).toEqual({ recall_subset_at_3: 0 });
    const run = scoreRankings([{ ranking, relevance: rel({ target: 1 }), subsetCandidates: members }], () => true, [1]);
    expect(run.metrics).toMatchObject({ recall_subset_at_1: 0, recall_subset_at_3: 1, recall_at_1: 0 });
  });

  it('reports 10 and 100 whatever --k asks for', () => {
    expect(reportCutoffs([5, 1, 5])).toEqual([1, 5, 10, 100]);
  });

  it('refuses to score a query with nothing relevant', () => {
    expect(() => queryMetrics(['a'], new Map(), [1])).toThrow(/without relevant/);
  });
});
