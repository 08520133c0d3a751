/**
 * The evaluation library in one process: the real Encoder (tiny fixture model) and the real Index
 * (LanceDB in a temporary folder) on the synthetic BEIR and CIRR folders. The slow file runs the
 * same through `vbge eval` for every layout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { readDataset } from '../../src/eval/detect.js';
import { reportCutoffs } from '../../src/eval/metrics.js';
import { buildResult } from '../../src/eval/results.js';
import { evaluateTask } from '../../src/eval/run.js';
import type { EvalTask } from '../../src/eval/task.js';
import { Index } from '../../src/index/index.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { writeBeir, writeCirr } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'vbge-eval-lib-'));
let encoder: Encoder;

beforeAll(async () => {
  encoder = await Encoder.load({ ...fixtureModelFiles('tiny-bert'), threads: 1, imageWorkers: 0 });
});
afterAll(async () => {
  await encoder?.close();
});

async function evaluate(task: EvalTask, location: string) {
  const index = await Index.open({ location, encoder, create: true });
  try {
    return await evaluateTask(task, { encoder, index, cutoffs: reportCutoffs() });
  } finally {
    await index.close();
  }
}

const stable = (r: ReturnType<typeof buildResult>): string => JSON.stringify({ ...r, evaluation_time: 0, vbge: { ...r.vbge, date: '' } });
const run = { seconds: 1, command: ['vbge', 'eval'], date: 'now', index: 'x', provenance: {} };

describe('evaluateTask with the real Encoder and Index', () => {
  it('BEIR: rejects and failed queries are counted; a second run over the kept index scores the same', async () => {
    const root = join(tmp, 'beir');
    writeBeir(root);
    const task = await readDataset(root);
    const location = join(tmp, 'beir-index');
    const first = await evaluate(task, location);
    expect(first.corpus).toMatchObject({ items: 6, added: 5, unchanged: 0, rejected: 1, rejects: [{ source: 'd5' }] });
    expect(first.failedQueries.map((q) => q.id)).toEqual(['q6']);
    expect(first.subsets[0]).toMatchObject({ queries: 5, scored: 3, withoutRelevant: 1, failed: 1 });
    expect(first.notes).toEqual([]);
    const second = await evaluate(task, location);
    expect(second.corpus).toMatchObject({ added: 0, unchanged: 5, rejected: 1 });
    expect(stable(buildResult(task, second, run))).toBe(stable(buildResult(task, first, run)));
  });

  it("CIRR: the reference never ranks, subsets rank the set's other members", async () => {
    const root = join(tmp, 'cirr');
    writeCirr(root);
    const task = await readDataset(root);
    const outcome = await evaluate(task, join(tmp, 'cirr-index'));
    const m = outcome.subsets[0]!.metrics;
    // Five candidates remain after the reference: every target is in the top 5, and among the
    // five subset candidates.
    expect(m['recall_at_5']).toBe(1);
    expect(m['recall_at_1']).toBeLessThanOrEqual(m['recall_subset_at_1']!);
    expect(m['recall_subset_at_3']).toBeGreaterThanOrEqual(m['recall_subset_at_2']!);
    expect(outcome.subsets[0]).toMatchObject({ queries: 2, scored: 2 });
  });
});
