/**
 * `vbge eval` end to end, per layout: synthetic data sets in each native layout (written from the
 * fixture images), the tiny fixture model, the real Index. Each run happens twice into the same
 * output folder (the second reuses the index); the result files must be byte-identical apart from
 * the timestamp and the duration. Slow (~4 min on a shared 2-core host: seventeen `vbge` processes).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, modelArgs, runCli } from '../helpers/cli.js';
import { startPostgres } from '../helpers/pglite-server.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { writeBeir, writeCirr, writeFashionIq, writeWebQa } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'vbge-eval-e2e-'));
const model = modelArgs(fixtureModelFiles('tiny-bert'));
const TIMEOUT = 240_000;

interface Result {
  task_name: string;
  scores: Record<string, ({ hf_subset: string; languages: string[]; main_score: number } & Record<string, unknown>)[]>;
  evaluation_time: number;
  vbge: {
    date: string;
    command: string[];
    provenance: Record<string, unknown>;
    corpus: { items: number; rejected: number; rejects: { source: string; reason: string }[] };
    queries: Record<string, { queries: number; scored: number; without_relevant: number; failed: number }>;
  };
}

/** The file without what may differ between identical runs. */
const stable = (text: string): string => text.replace(/"evaluation_time": [^,]+,/, '').replace(/"date": "[^"]+",/, '');

async function evalTwice(name: string, write: (root: string) => void): Promise<{ first: CliResult; second: CliResult; result: Result; out: string }> {
  const root = join(tmp, name);
  write(root);
  const out = join(tmp, `${name}-out`);
  const args = ['eval', root, ...model, '--output-dir', out, '--threads', '1', '--quiet'];
  const first = await runCli(args, { timeoutMs: TIMEOUT });
  expect(first.stderr).not.toMatch(/unexpected error/);
  const file = join(out, `${name === 'beir' ? 'beir' : name}.json`);
  const text1 = readFileSync(file, 'utf8');
  const second = await runCli(args, { timeoutMs: TIMEOUT });
  const text2 = readFileSync(file, 'utf8');
  expect(stable(text2)).toBe(stable(text1));
  expect(second.stdout).toBe(first.stdout);
  return { first, second, result: JSON.parse(text1) as Result, out };
}

function expectMtebShape(result: Result, task: string, split: string): void {
  expect(result.task_name).toBe(task);
  const entries = result.scores[split]!;
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries) {
    expect(typeof e.hf_subset).toBe('string');
    expect(Array.isArray(e.languages)).toBe(true);
    for (const name of ['recall_at_1', 'recall_at_5', 'recall_at_10', 'ndcg_at_10', 'mrr_at_10', 'map_at_100', 'precision_at_10', 'cv_recall_at_5'])
      expect(e[name], `${task} ${e.hf_subset} ${name}`).toBeTypeOf('number');
    expect(e.main_score).toBeGreaterThanOrEqual(0);
    expect(e.main_score).toBeLessThanOrEqual(1);
  }
  expect(result.evaluation_time).toBeGreaterThan(0);
  expect(result.vbge.provenance['checkpointSha256']).toMatch(/^[0-9a-f]{64}$/);
  expect(result.vbge.command[0]).toBe('vbge');
}

describe('vbge eval, end to end', () => {
  it(
    'BEIR layout: a corrupt corpus image and a corrupt query image are reported and counted, the rest evaluates',
    async () => {
      const { first, result } = await evalTwice('beir', writeBeir);
      expectMtebShape(result, 'beir', 'test');
      expect(first.code).toBe(1); // something was rejected
      expect(first.stderr).toMatch(/beir: rejected d5: .*not a supported image/);
      expect(result.vbge.corpus).toMatchObject({ items: 6, rejected: 1, rejects: [{ source: 'd5' }] });
      // q4's only relevant item is not in the corpus: left out and counted; q5 has no judgements;
      // q6's image is corrupt: reported, counted, left out.
      expect(result.vbge.queries['default']).toEqual({ queries: 5, scored: 3, without_relevant: 1, failed: 1 });
      expect(first.stderr).toMatch(/beir: query q6 failed: query q6 .*not a supported image/);
      const s = result.scores['test']![0]!;
      expect(s.main_score).toBe(s['ndcg_at_10']);
      // q3's relevant d5 was rejected, so q3 can find at most half of what is relevant.
      expect(s['recall_at_100']).toBeCloseTo((1 + 1 + 0.5) / 3, 12);
      expect(first.stdout).toMatch(/^task\s+split\s+subset\s+queries\s+R@1/);
      expect(first.stdout).toMatch(/\nbeir\s+test\s+default\s+3\s/);
    },
    TIMEOUT * 2,
  );

  it(
    "CIRR layout: the reference image never comes back, Recall_subset is reported",
    async () => {
      const { first, result } = await evalTwice('CIRR', writeCirr);
      expectMtebShape(result, 'CIRR', 'val');
      expect(first.code).toBe(0);
      const s = result.scores['val']![0]!;
      expect(s.main_score).toBe(s['recall_at_5']);
      for (const k of [1, 2, 3]) expect(s[`recall_subset_at_${k}`]).toBeTypeOf('number');
      // Five candidates remain after excluding the reference, so every target is within the top 5.
      expect(s['recall_at_5']).toBe(1);
      expect(s['recall_subset_at_3']).toBeGreaterThanOrEqual(s['recall_subset_at_1'] as number);
      expect(result.vbge.queries['default']).toMatchObject({ queries: 2, scored: 2 });
    },
    TIMEOUT * 2,
  );

  it(
    'FashionIQ layout: one entry per category and their average',
    async () => {
      const { first, result } = await evalTwice('FashionIQ', writeFashionIq);
      expectMtebShape(result, 'FashionIQ', 'val');
      expect(first.code).toBe(0);
      const entries = result.scores['val']!;
      expect(entries.map((e) => e.hf_subset)).toEqual(['dress', 'shirt', 'average']);
      const [dress, shirt, average] = entries as unknown as [Record<string, number>, Record<string, number>, Record<string, number>];
      expect(average['recall_at_10']).toBeCloseTo((dress['recall_at_10']! + shirt['recall_at_10']!) / 2, 12);
      // Each category searches its own three images: R@3 finds every target.
      expect(dress['recall_at_3']).toBe(1);
      expect(first.stdout).toMatch(/FashionIQ\s+val\s+average\s+4\s/);
    },
    TIMEOUT * 2,
  );

  it(
    'WebQA layout: images read from imgs.tsv, a corrupt one reported and counted',
    async () => {
      const { first, result } = await evalTwice('WebQA', writeWebQa);
      expectMtebShape(result, 'WebQA', 'val');
      expect(first.code).toBe(1);
      expect(result.vbge.corpus).toMatchObject({ items: 7, rejected: 1, rejects: [{ source: 'image:30000002' }] });
      expect(result.vbge.queries['default']).toMatchObject({ queries: 2, scored: 2, failed: 0 });
    },
    TIMEOUT * 2,
  );

  it(
    '--compare prints metric-by-metric differences to an earlier run',
    async () => {
      const out = join(tmp, 'beir-out');
      const earlier = join(tmp, 'beir-earlier');
      cpSync(out, earlier, { recursive: true, filter: (src) => !src.includes(`${join(out, 'index')}`) });
      // Same results: nothing differs.
      const same = await runCli(['eval', '--output-dir', out, '--compare', earlier]);
      expect(same.code).toBe(0);
      expect(same.stdout).toMatch(/beir: 0 metrics differ, 42 unchanged/);
      // An earlier run with another score: the difference, in points.
      const file = join(earlier, 'beir.json');
      const changed = JSON.parse(readFileSync(file, 'utf8')) as Result;
      changed.scores['test']![0]!['ndcg_at_10'] = 0.5;
      writeFileSync(file, JSON.stringify(changed));
      const diff = await runCli(['eval', '--output-dir', out, '--compare', earlier]);
      expect(diff.stdout).toMatch(/beir\s+test \/ default\s+ndcg_at_10\s+50\.00\s+62\.92\s+\+12\.92/);
      expect(diff.stdout).toMatch(/beir: 1 metrics differ, 41 unchanged/);
    },
    TIMEOUT,
  );

  it(
    '--store: the same scores from Postgres + pgvector (subset and id filters included)',
    async () => {
      const pg = await startPostgres();
      try {
        for (const [name, table] of [
          ['CIRR', 'eval_cirr'],
          ['FashionIQ', 'eval_fiq'],
        ] as const) {
          const out = join(tmp, `${name}-pg-out`);
          const r = await runCli(['eval', join(tmp, name), ...model, '--store', pg.url(table), '--output-dir', out, '--threads', '1', '--quiet'], { timeoutMs: TIMEOUT });
          expect(r.code, r.stderr).toBe(0);
          const fromPg = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as Result;
          const fromLance = JSON.parse(readFileSync(join(tmp, `${name}-out`, `${name}.json`), 'utf8')) as Result;
          expect(fromPg.scores, name).toEqual(fromLance.scores);
        }
      } finally {
        await pg.close();
      }
    },
    TIMEOUT * 2,
  );

  it(
    '--index reuses an existing index, and says when it holds items this corpus lacks',
    async () => {
      // The CIRR run's index: same model, other items (7 CIRR images).
      const index = join(tmp, 'CIRR-out', 'index', 'CIRR');
      const out = join(tmp, 'beir-shared-out');
      const r = await runCli(['eval', join(tmp, 'beir'), ...model, '--index', index, '--output-dir', out, '--threads', '1', '--quiet'], { timeoutMs: TIMEOUT });
      expect(r.stderr).toMatch(/beir: the index holds 6 items that are not in this corpus; they take part in every ranking/);
      const result = JSON.parse(readFileSync(join(out, 'beir.json'), 'utf8')) as Result & { vbge: { index: string; notes: string[] } };
      expect(result.vbge.index).toBe(index);
      expect(result.vbge.notes).toHaveLength(1);
    },
    TIMEOUT,
  );

  it('refuses what cannot run before loading a model', async () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const r = await runCli(['eval', empty, ...model, '--output-dir', join(tmp, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/matches no data set layout: a BEIR folder has corpus\.jsonl/);
    const k = await runCli(['eval', join(tmp, 'beir'), ...model, '--k', '5,2000']);
    expect(k.stderr).toMatch(/--k 2000: the limit is 1000/);
    const layout = await runCli(['eval', join(tmp, 'beir'), ...model, '--layout', 'mteb']);
    expect(layout.stderr).toMatch(/--layout must be one of beir, cirr, fashioniq, webqa; got "mteb"/);
    writeFileSync(join(tmp, 'a-file'), '');
    const out = await runCli(['eval', join(tmp, 'beir'), ...model, '--output-dir', join(tmp, 'a-file', 'results')]);
    expect(out.stderr).toMatch(/--output-dir .*a-file\/results: cannot write there \(ENOTDIR\)/);
    const shared = await runCli(['eval', join(tmp, 'beir'), join(tmp, 'CIRR'), ...model, '--index', join(tmp, 'some-index')]);
    expect(shared.stderr).toMatch(/--index\/--store name one index: evaluate one data set at a time with them/);
  }, TIMEOUT);
});
