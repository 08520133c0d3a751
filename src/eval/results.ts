/**
 * Result files in MTEB's shape — one JSON per task, `{task_name, scores: {split: [{hf_subset,
 * languages, main_score, <metrics>}]}, evaluation_time, ...}` — so that scripts and leaderboards
 * that read MTEB results read ours. What MTEB has no place for (the encoder's provenance, the
 * command line, counts of rejected items and failed queries) is kept under `vbge`.
 *
 * Everything but `evaluation_time` and `vbge.date` is a function of the data, the model and the
 * machine: the same run writes the same bytes.
 */
import { accessSync, constants, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { isFile, isFolder, isRecord, readJsonFile } from './files.js';
import type { MetricValues } from './metrics.js';
import type { TaskOutcome } from './run.js';
import type { EvalTask } from './task.js';

export interface SubsetScores {
  readonly hf_subset: string;
  readonly languages: readonly string[];
  readonly main_score: number;
  readonly [metric: string]: unknown;
}

export interface ResultFile {
  readonly dataset_revision: null;
  readonly task_name: string;
  readonly mteb_version: null;
  readonly scores: Readonly<Record<string, readonly SubsetScores[]>>;
  readonly evaluation_time: number;
  readonly kg_co2_emissions: null;
  readonly vbge: {
    readonly layout: string;
    readonly source: string;
    readonly command: readonly string[];
    readonly date: string;
    readonly index: string;
    readonly provenance: Readonly<Record<string, unknown>>;
    /** Not how much this run embedded (that depends on the index's state), so that re-runs write the same bytes. */
    readonly corpus: { readonly items: number; readonly rejected: number; readonly rejects: TaskOutcome['corpus']['rejects'] };
    readonly queries: Readonly<Record<string, { queries: number; scored: number; without_relevant: number; failed: number }>>;
    readonly failed_queries: TaskOutcome['failedQueries'];
    readonly notes: readonly string[];
  };
}

/** Metric names in a stable order: by family, then by cutoff. */
export function sortMetricNames(names: Iterable<string>): string[] {
  const split = (n: string): [string, number] => {
    const m = /^(.*)_at_(\d+)$/.exec(n);
    return m ? [m[1]!, Number(m[2])] : [n, 0];
  };
  return [...names].sort((a, b) => {
    const [fa, ka] = split(a);
    const [fb, kb] = split(b);
    return fa < fb ? -1 : fa > fb ? 1 : ka - kb;
  });
}

function subsetScores(task: EvalTask, hfSubset: string, metrics: MetricValues): SubsetScores {
  const ordered: Record<string, number> = {};
  for (const name of sortMetricNames(Object.keys(metrics))) ordered[name] = metrics[name]!;
  return { hf_subset: hfSubset, languages: task.languages, main_score: metrics[task.mainScore] ?? Number.NaN, ...ordered };
}

/** FashionIQ's summary: each metric's mean over the categories. */
function averageOver(subsets: readonly MetricValues[]): MetricValues {
  const names = new Set(subsets.flatMap((m) => Object.keys(m)));
  const mean: MetricValues = {};
  for (const name of names) mean[name] = subsets.reduce((s, m) => s + (m[name] ?? 0), 0) / subsets.length;
  return mean;
}

export function buildResult(
  task: EvalTask,
  outcome: TaskOutcome,
  run: { seconds: number; command: readonly string[]; date: string; index: string; provenance: Readonly<Record<string, unknown>> },
): ResultFile {
  const entries = outcome.subsets.map((s) => subsetScores(task, s.subset, s.metrics));
  if (task.averageSubsets && outcome.subsets.length > 1) entries.push(subsetScores(task, 'average', averageOver(outcome.subsets.map((s) => s.metrics))));
  const queries: Record<string, { queries: number; scored: number; without_relevant: number; failed: number }> = {};
  for (const s of outcome.subsets) queries[s.subset] = { queries: s.queries, scored: s.scored, without_relevant: s.withoutRelevant, failed: s.failed };
  return {
    dataset_revision: null,
    task_name: task.name,
    mteb_version: null,
    scores: { [task.split]: entries },
    evaluation_time: run.seconds,
    kg_co2_emissions: null,
    vbge: {
      layout: task.layout,
      source: task.source,
      command: run.command,
      date: run.date,
      index: run.index,
      provenance: run.provenance,
      corpus: { items: outcome.corpus.items, rejected: outcome.corpus.rejected, rejects: outcome.corpus.rejects },
      queries,
      failed_queries: outcome.failedQueries,
      notes: [...task.notes, ...outcome.notes],
    },
  };
}

export const resultPath = (dir: string, taskName: string): string => join(dir, `${taskName}.json`);

/** Creates the output folder and checks it can be written, before hours of embedding depend on it. */
export function prepareOutputDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(`--output-dir ${dir}: cannot write there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

export function writeResult(dir: string, result: ResultFile): string {
  try {
    mkdirSync(dir, { recursive: true });
    const path = resultPath(dir, result.task_name);
    // NaN (a subset without scored queries) is not JSON: it is written as null.
    writeFileSync(path, `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    return path;
  } catch (err) {
    throw new ConfigError(`--output-dir ${dir}: cannot write results (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** The metrics of one result file, as `split / hf_subset → metrics`. */
function scoresOf(result: unknown, path: string): Map<string, MetricValues> {
  if (!isRecord(result) || !isRecord(result['scores'])) throw new InputError(path, 'not a result file (no "scores")');
  const out = new Map<string, MetricValues>();
  for (const [split, entries] of Object.entries(result['scores'])) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!isRecord(entry)) continue;
      const metrics: MetricValues = {};
      for (const [name, v] of Object.entries(entry)) if (typeof v === 'number' && name !== 'main_score') metrics[name] = v;
      out.set(`${split} / ${String(entry['hf_subset'] ?? 'default')}`, metrics);
    }
  }
  return out;
}

export async function readResult(path: string): Promise<unknown> {
  return readJsonFile(path, 'a vbge eval / MTEB result file');
}

/** Task names with a result file in a run folder. */
export function resultTasks(dir: string): string[] {
  if (!isFolder(dir)) throw new ConfigError(`${dir}: no such folder (a vbge eval output folder)`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && isFile(join(dir, f)))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

const fmt = (v: number | undefined): string => (v === undefined ? '—' : (v * 100).toFixed(2));

/**
 * Metric-by-metric differences between a result and an earlier one, as lines of a table (in
 * percentage points); unchanged metrics are counted, not listed. Provenance fields that differ
 * are named first: they usually explain the rest.
 */
export function compareResults(taskName: string, current: unknown, earlier: unknown, earlierPath: string): string[] {
  const now = scoresOf(current, taskName);
  const before = scoresOf(earlier, earlierPath);
  const lines: string[] = [];
  const provNow = isRecord(current) && isRecord(current['vbge']) && isRecord(current['vbge']['provenance']) ? current['vbge']['provenance'] : {};
  const provBefore = isRecord(earlier) && isRecord(earlier['vbge']) && isRecord(earlier['vbge']['provenance']) ? earlier['vbge']['provenance'] : {};
  const changed = [...new Set([...Object.keys(provNow), ...Object.keys(provBefore)])]
    .sort()
    .filter((k) => JSON.stringify(provNow[k]) !== JSON.stringify(provBefore[k]));
  if (changed.length > 0) lines.push(`${taskName}: provenance differs in ${changed.join(', ')}`);
  let unchanged = 0;
  const rows: string[][] = [];
  for (const key of [...new Set([...now.keys(), ...before.keys()])].sort()) {
    const a = before.get(key) ?? {};
    const b = now.get(key) ?? {};
    for (const name of sortMetricNames(new Set([...Object.keys(a), ...Object.keys(b)]))) {
      const x = a[name];
      const y = b[name];
      if (x === y) {
        unchanged++;
        continue;
      }
      const delta = x !== undefined && y !== undefined ? `${y - x >= 0 ? '+' : ''}${((y - x) * 100).toFixed(2)}` : x === undefined ? 'new' : 'gone';
      rows.push([taskName, key, name, fmt(x), fmt(y), delta]);
    }
  }
  if (rows.length > 0) lines.push(...formatTable(['task', 'split / subset', 'metric', 'before %', 'now %', 'Δ points'], rows));
  lines.push(`${taskName}: ${rows.length} metrics differ, ${unchanged} unchanged (earlier run: ${earlierPath})`);
  return lines;
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_h, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.]+$|^—$|^new$|^gone$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The metrics the summary table shows, when present. */
const TABLE_METRICS: readonly [string, string][] = [
  ['recall_at_1', 'R@1'],
  ['recall_at_5', 'R@5'],
  ['recall_at_10', 'R@10'],
  ['recall_at_50', 'R@50'],
  ['ndcg_at_10', 'nDCG@10'],
  ['mrr_at_10', 'MRR@10'],
  ['map_at_100', 'MAP@100'],
  ['recall_subset_at_1', 'Rs@1'],
  ['recall_subset_at_2', 'Rs@2'],
  ['recall_subset_at_3', 'Rs@3'],
];

/** The stdout table: one row per task and subset, scores in percent. */
export function summaryTable(results: readonly ResultFile[]): string[] {
  const shown = TABLE_METRICS.filter(([name]) => results.some((r) => Object.values(r.scores).some((e) => e.some((s) => typeof s[name] === 'number'))));
  const rows: string[][] = [];
  for (const r of results)
    for (const [split, entries] of Object.entries(r.scores))
      for (const s of entries) {
        // The average row counts the queries of every subset.
        const scored = s.hf_subset in r.vbge.queries ? r.vbge.queries[s.hf_subset]!.scored : Object.values(r.vbge.queries).reduce((n, q) => n + q.scored, 0);
        rows.push([r.task_name, split, s.hf_subset, String(scored), ...shown.map(([name]) => fmt(typeof s[name] === 'number' ? (s[name] as number) : undefined))]);
      }
  return formatTable(['task', 'split', 'subset', 'queries', ...shown.map(([, label]) => label)], rows);
}
