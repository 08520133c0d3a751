import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildResult, compareResults, sortMetricNames, summaryTable, writeResult } from '../../src/eval/results.js';
import type { TaskOutcome } from '../../src/eval/run.js';
import type { EvalTask } from '../../src/eval/task.js';

const task: EvalTask = {
  name: 'Toy',
  layout: 'fashioniq',
  split: 'val',
  languages: ['eng-Latn'],
  mainScore: 'recall_at_10',
  subsets: ['dress', 'shirt'],
  averageSubsets: true,
  corpus: [],
  queries: [],
  source: '/data/toy',
  notes: [],
};
const outcome: TaskOutcome = {
  subsets: [
    { subset: 'dress', metrics: { recall_at_10: 0.5, ndcg_at_10: 0.25, recall_at_5: 0.5 }, queries: 4, scored: 4, withoutRelevant: 0, failed: 0 },
    { subset: 'shirt', metrics: { recall_at_10: 1, ndcg_at_10: 0.75, recall_at_5: 0 }, queries: 3, scored: 2, withoutRelevant: 1, failed: 0 },
  ],
  corpus: { items: 10, added: 10, unchanged: 0, rejected: 0, rejects: [] },
  failedQueries: [],
  notes: [],
};
const run = { seconds: 1.5, command: ['vbge', 'eval', '/data/toy'], date: '2026-01-01T00:00:00.000Z', index: 'out/index/Toy', provenance: { checkpointSha256: 'a'.repeat(64) } };

describe('result files', () => {
  it('orders metrics by family, then by cutoff as a number', () => {
    expect(sortMetricNames(['recall_at_10', 'ndcg_at_10', 'recall_at_5', 'map_at_100', 'recall_at_1'])).toEqual(['map_at_100', 'ndcg_at_10', 'recall_at_1', 'recall_at_5', 'recall_at_10']);
  });

  it("has MTEB's shape, one entry per subset plus the average; counts under vbge", () => {
    const r = buildResult(task, outcome, run);
    expect(Object.keys(r)).toEqual(['dataset_revision', 'task_name', 'mteb_version', 'scores', 'evaluation_time', 'kg_co2_emissions', 'vbge']);
    const entries = r.scores['val']!;
    expect(entries.map((e) => e.hf_subset)).toEqual(['dress', 'shirt', 'average']);
    expect(entries[0]).toEqual({ hf_subset: 'dress', languages: ['eng-Latn'], main_score: 0.5, ndcg_at_10: 0.25, recall_at_5: 0.5, recall_at_10: 0.5 });
    expect(entries[2]).toMatchObject({ main_score: 0.75, ndcg_at_10: 0.5, recall_at_5: 0.25 });
    expect(r.vbge.queries['shirt']).toEqual({ queries: 3, scored: 2, without_relevant: 1, failed: 0 });
    // How much a run embedded depends on the index's state, so it is not in the file.
    expect(r.vbge.corpus).toEqual({ items: 10, rejected: 0, rejects: [] });
  });

  it('writes a subset without scored queries with null scores (NaN is not JSON)', () => {
    const empty: TaskOutcome = { ...outcome, subsets: [{ subset: 'dress', metrics: {}, queries: 1, scored: 0, withoutRelevant: 1, failed: 0 }] };
    const dir = mkdtempSync(join(tmpdir(), 'vbge-eval-results-'));
    const path = writeResult(dir, buildResult({ ...task, subsets: ['dress'] }, empty, run));
    const written = JSON.parse(readFileSync(path, 'utf8')) as { scores: { val: { main_score: unknown }[] } };
    expect(written.scores.val[0]!.main_score).toBeNull();
  });

  it('the table shows percentages and the scored queries; the average row counts every subset', () => {
    const lines = summaryTable([buildResult(task, outcome, run)]);
    expect(lines[0]).toMatch(/^task\s+split\s+subset\s+queries\s+R@5\s+R@10\s+nDCG@10$/);
    expect(lines[2]).toMatch(/^Toy\s+val\s+dress\s+4\s+50\.00\s+50\.00\s+25\.00$/);
    expect(lines[4]).toMatch(/^Toy\s+val\s+average\s+6\s+25\.00\s+75\.00\s+50\.00$/);
  });

  it('--compare names provenance changes and each changed metric in points', () => {
    const before = buildResult(task, outcome, run);
    const after = buildResult(task, { ...outcome, subsets: [{ ...outcome.subsets[0]!, metrics: { ...outcome.subsets[0]!.metrics, recall_at_10: 0.625 } }, outcome.subsets[1]!] }, {
      ...run,
      provenance: { checkpointSha256: 'b'.repeat(64) },
    });
    const lines = compareResults('Toy', after, before, 'old/Toy.json');
    expect(lines[0]).toBe('Toy: provenance differs in checkpointSha256');
    expect(lines.join('\n')).toMatch(/Toy\s+val \/ dress\s+recall_at_10\s+50\.00\s+62\.50\s+\+12\.50/);
    expect(lines.join('\n')).toMatch(/Toy\s+val \/ average\s+recall_at_10\s+75\.00\s+81\.25\s+\+6\.25/);
    expect(lines[lines.length - 1]).toBe('Toy: 2 metrics differ, 7 unchanged (earlier run: old/Toy.json)');
  });
});
