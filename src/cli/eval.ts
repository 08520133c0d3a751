/**
 * `vbge eval DATASET…`: retrieval quality on data sets in the BEIR layout or the native CIRR,
 * FashionIQ and WebQA layouts. One MTEB-shaped JSON per task in --output-dir, a table on
 * stdout, and with --compare the differences to an earlier run.
 *
 * Each corpus goes into an index: the one --index/--store names, else `<output-dir>/index/<task>`
 * (kept, so a re-run embeds only what changed and an interrupted run resumes).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { readDataset, isLayout } from '../eval/detect.js';
import { reportCutoffs } from '../eval/metrics.js';
import { buildResult, compareResults, prepareOutputDir, readResult, resultPath, resultTasks, summaryTable, writeResult, type ResultFile } from '../eval/results.js';
import { evaluateTask, type TaskOutcome } from '../eval/run.js';
import type { EvalTask } from '../eval/task.js';
import { Index } from '../index/index.js';
import { LIMITS } from '../limits.js';
import { type EncoderCliOptions, indexLocation, modelSpecOf, parseEncoderOptions } from './index-options.js';
import { addModelOptions, addRunOptions, resolveModelFiles } from './model-options.js';
import { parsePositiveInt } from './parse.js';
import { createProgress } from './progress.js';

interface EvalOptions extends EncoderCliOptions {
  layout?: string;
  split?: string;
  k?: string;
  outputDir: string;
  index?: string;
  store?: string;
  images?: string;
  corpus?: string;
  compare?: string;
  quiet?: boolean;
}

const DEFAULT_OUTPUT_DIR = './vbge-eval';
/** Lines of rejects and failed queries printed per task; the result file lists them. */
const MAX_PROBLEM_LINES = 20;

export function registerEval(program: Command): void {
  addRunOptions(addModelOptions(
    program
      .command('eval')
      .description('retrieval quality on BEIR-layout, CIRR, FashionIQ and WebQA data sets: MTEB-shaped JSON per task, a table on stdout')
      .argument('[datasets...]', 'data set folders (the layout is detected)'),
  ))
    .option('--index <dir>', 'evaluate in this index folder, created or reused (default: <output-dir>/index/<task>)')
    .option('--store <url>', 'evaluate in this Postgres index: postgres://user@host/db?index=NAME')
    .option('--layout <name>', 'beir | cirr | fashioniq | webqa (default: detected)')
    .option('--split <name>', 'the split to evaluate (default: test for BEIR, val for the native layouts)')
    .option('--k <list>', 'cutoffs for the @K metrics, e.g. 1,5,10 (10 and 100 are always reported)')
    .option('--output-dir <dir>', 'where the result files go', DEFAULT_OUTPUT_DIR)
    .option('--images <dir>', "a native layout's images, when not in their usual place")
    .option('--corpus <scope>', "CIRR and FashionIQ: split (the benchmark's corpus, default) or all (every image of every split, as in the VISTA paper)")
    .option('--compare <run-dir>', 'print the differences to an earlier run (alone: compare --output-dir with it)')
    .option('--quiet', 'no progress output')
    .action(async (datasets: string[], opts: EvalOptions) => {
      process.exitCode = await runEval(datasets, opts);
    });
}

function parseCutoffs(value: string | undefined): number[] {
  if (value === undefined) return reportCutoffs();
  const ks = value.split(',').map((s) => parsePositiveInt(s.trim(), '--k'));
  const cutoffs = reportCutoffs(ks);
  const deepest = cutoffs[cutoffs.length - 1]!;
  if (deepest > LIMITS.maxSearchResults) throw new ConfigError(`--k ${deepest}: the limit is ${LIMITS.maxSearchResults} (the most results one search returns)`);
  return cutoffs;
}

/** The earlier run's result files, read before this run can overwrite them (the folders may be one). */
async function readEarlier(runDir: string, taskNames: readonly string[]): Promise<Map<string, unknown>> {
  const earlier = new Map<string, unknown>();
  for (const name of taskNames) {
    try {
      earlier.set(name, await readResult(resultPath(runDir, name)));
    } catch {
      // Reported by compareWith: a task the earlier run did not have.
    }
  }
  return earlier;
}

async function compareWith(outputDir: string, runDir: string, taskNames: readonly string[], earlier: Map<string, unknown>): Promise<string[]> {
  const lines: string[] = [];
  for (const name of taskNames) {
    const before = earlier.get(name);
    if (before === undefined) lines.push(`${name}: no result in ${runDir} to compare with`);
    else lines.push(...compareResults(name, await readResult(resultPath(outputDir, name)), before, resultPath(runDir, name)));
  }
  return lines;
}

/** One task in its index, with progress bars for the corpus and the queries. */
async function evaluateInIndex(
  task: EvalTask,
  o: { location: string; encoder: Encoder; model: Record<string, string>; cutoffs: readonly number[]; quiet: boolean; started: number },
): Promise<TaskOutcome> {
  const index = await Index.open({ location: o.location, encoder: o.encoder, create: true, model: o.model });
  const mode = o.quiet ? 'quiet' : 'auto';
  const corpusBar = createProgress(mode, `${task.name} corpus`);
  const queryBar = createProgress(mode, `${task.name} queries`);
  try {
    return await evaluateTask(task, {
      encoder: o.encoder,
      index,
      cutoffs: o.cutoffs,
      onProgress: (p) => {
        const elapsedSeconds = (performance.now() - o.started) / 1000;
        if (p.stage === 'corpus') corpusBar.update({ done: p.done, total: p.total, rejected: p.rejected, elapsedSeconds });
        else queryBar.update({ done: p.done, total: p.total, rejected: p.failed, elapsedSeconds });
      },
    });
  } finally {
    corpusBar.stop();
    queryBar.stop();
    await index.close();
  }
}

/** Notes, rejects and failed queries on stderr (the first few; the result file lists them); returns how many went wrong. */
function reportProblems(taskName: string, outcome: TaskOutcome, resultFile: string): number {
  const say = (line: string): boolean => process.stderr.write(`vbge eval: ${taskName}: ${line}\n`);
  for (const note of outcome.notes) say(note);
  const lines = [...outcome.corpus.rejects.map((r) => `rejected ${r.source}: ${r.reason}`), ...outcome.failedQueries.map((q) => `query ${q.id} failed: ${q.reason}`)];
  for (const line of lines.slice(0, MAX_PROBLEM_LINES)) say(line);
  const count = outcome.corpus.rejected + outcome.failedQueries.length;
  const shown = Math.min(lines.length, MAX_PROBLEM_LINES);
  if (count > shown) say(`… ${count - shown} more (see ${resultFile})`);
  if (count > 0)
    say(`${outcome.corpus.rejected} corpus items rejected (they stay relevant, so their queries cannot find them), ${outcome.failedQueries.length} queries failed (left out of the scores)`);
  return count;
}

export async function runEval(datasets: readonly string[], opts: EvalOptions): Promise<number> {
  // Everything that can fail without the model fails first.
  if (opts.layout !== undefined && !isLayout(opts.layout)) throw new ConfigError(`--layout must be one of beir, cirr, fashioniq, webqa; got "${opts.layout}"`);
  if (opts.corpus !== undefined && opts.corpus !== 'split' && opts.corpus !== 'all') throw new ConfigError(`--corpus must be split or all; got "${opts.corpus}"`);
  const cutoffs = parseCutoffs(opts.k);
  const encoderOptions = parseEncoderOptions(opts);
  if (datasets.length === 0) {
    if (opts.compare === undefined) throw new ConfigError('nothing to evaluate: name one or more data set folders (or give --compare RUN_DIR to compare --output-dir with it)');
    const taskNames = resultTasks(opts.outputDir);
    const lines = await compareWith(opts.outputDir, opts.compare, taskNames, await readEarlier(opts.compare, taskNames));
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  const sharedIndex = opts.index !== undefined || opts.store !== undefined;
  if (sharedIndex && datasets.length > 1) throw new ConfigError('--index/--store name one index: evaluate one data set at a time with them');
  const sharedLocation = sharedIndex ? indexLocation(opts) : undefined;
  const tasks: EvalTask[] = [];
  for (const root of datasets)
    tasks.push(
      await readDataset(root, {
        ...(opts.layout !== undefined && isLayout(opts.layout) ? { layout: opts.layout } : {}),
        ...(opts.split !== undefined ? { split: opts.split } : {}),
        ...(opts.images !== undefined ? { images: opts.images } : {}),
        ...(opts.corpus === 'split' || opts.corpus === 'all' ? { corpus: opts.corpus } : {}),
      }),
    );
  const names = tasks.map((t) => t.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new ConfigError(`two data sets are both task "${repeated}"; their results would share ${resultPath(opts.outputDir, repeated)}: evaluate them in separate runs`);

  const earlier = opts.compare !== undefined ? await readEarlier(opts.compare, names) : undefined;
  prepareOutputDir(opts.outputDir);

  const files = await resolveModelFiles(opts);
  const { Encoder } = await import('../encoder.js');
  const encoder = await Encoder.load({ ...files, ...encoderOptions });
  const results: ResultFile[] = [];
  let problems = 0;
  try {
    const provenance = (await encoder.provenance()) as unknown as Record<string, unknown>;
    const model = await modelSpecOf(opts);
    for (const task of tasks) {
      const started = performance.now();
      const location = sharedLocation ?? join(opts.outputDir, 'index', task.name);
      for (const note of task.notes) process.stderr.write(`vbge eval: ${task.name}: ${note}\n`);
      const outcome = await evaluateInIndex(task, { location, encoder, model, cutoffs, quiet: opts.quiet ?? false, started });
      const result = buildResult(task, outcome, {
        seconds: (performance.now() - started) / 1000,
        command: ['vbge', ...process.argv.slice(2)],
        date: new Date().toISOString(),
        index: location,
        provenance,
      });
      writeResult(opts.outputDir, result);
      results.push(result);
      const count = reportProblems(task.name, outcome, resultPath(opts.outputDir, task.name));
      if (!opts.quiet) process.stderr.write(`vbge eval: ${task.name}: ${outcome.corpus.added} corpus items embedded, ${outcome.corpus.unchanged} already in ${location}\n`);
      problems += count;
    }
  } finally {
    await encoder.close();
  }
  const lines = summaryTable(results);
  if (opts.compare !== undefined && earlier) lines.push('', ...(await compareWith(opts.outputDir, opts.compare, names, earlier)));
  process.stdout.write(lines.join('\n') + '\n');
  return problems > 0 ? 1 : 0;
}
