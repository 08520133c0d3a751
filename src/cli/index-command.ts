/**
 * `vbge index PATH…`: folders, image files and JSONL manifests into an index. Reruns embed only
 * what is new or changed; `--sync` removes what disappeared; `--dry-run` only counts; `--shard I/N`
 * takes one share of the work, so N processes can fill one Postgres index together.
 * Exit 0 when everything was indexed, 1 when something was rejected, 2 when the run could not start.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { Index } from '../index/index.js';
import { parseShard, type Shard } from '../index/content-key.js';
import type { IndexRunReport } from '../index/indexer.js';
import { countSources, readSources } from '../index/sources.js';
import { isPostgresUrl } from '../store/location.js';
import { LIMITS } from '../limits.js';
import { addModelOptions, addRunOptions } from './model-options.js';
import { parsePositiveInt } from './parse.js';
import { type EncoderCliOptions, type IndexLocationOptions, addIndexLocationOptions, hasModelOptions, indexLocation, loadEncoder, modelSpecOf, parseEncoderOptions } from './index-options.js';
import { createProgress, formatDuration } from './progress.js';

interface IndexCommandOptions extends EncoderCliOptions, IndexLocationOptions {
  shard?: string;
  sync?: boolean;
  dryRun?: boolean;
  ann?: boolean;
  quiet?: boolean;
  captionExt?: string;
  truncate?: boolean;
  commitSize?: string;
}

/** Rejects named one by one on stderr; the rest are counted (all are in the rejects record). */
const MAX_REJECT_LINES = 50;

export function registerIndex(program: Command): void {
  const cmd = program
    .command('index')
    .description('index folders, image files and JSONL manifests ({"id"?, "image"?, "text"?, …metadata}) for search')
    .argument('<paths...>', 'folders (recursive), image files, or .jsonl manifests');
  addRunOptions(addIndexLocationOptions(addModelOptions(cmd)))
    .option('--caption-ext <ext>', 'take a sidecar caption beside each image (photo.jpg + photo.txt with --caption-ext .txt): a composed entry')
    .option('--sync', 'remove indexed items that are no longer in the given paths')
    .option('--dry-run', 'print what would be new / changed / unchanged / removed / rejected, and change nothing')
    .option('--shard <i/n>', 'index only the items whose content hash falls in shard I of N (run N processes into one --store)')
    .option('--ann', 'build the store\'s approximate-nearest-neighbour index after indexing')
    .option('--truncate', 'cut over-long captions instead of rejecting them')
    .option('--exif-orientation', 'apply EXIF orientation to images (diverges from upstream embeddings)')
    .option('--commit-size <n>', 'items per store commit: a crash loses at most this many (default 64)')
    .option('--quiet', 'no progress output')
    .action(async (paths: string[], opts: IndexCommandOptions) => {
      process.exitCode = await runIndexCommand(paths, opts);
    });
}

async function runIndexCommand(paths: string[], opts: IndexCommandOptions): Promise<number> {
  // Everything that can be checked without the model first: a typo fails in milliseconds.
  const location = indexLocation(opts);
  const shard: Shard | undefined = opts.shard !== undefined ? parseShard(opts.shard) : undefined;
  parseEncoderOptions(opts);
  const commitSize = opts.commitSize !== undefined ? parsePositiveInt(opts.commitSize, '--commit-size') : undefined;
  if (commitSize !== undefined && commitSize > LIMITS.maxBatchSize) throw new ConfigError(`--commit-size is ${commitSize}, the limit is ${LIMITS.maxBatchSize}`);
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ConfigError(`${path}: no such file or folder`);
  }
  // The index's own folder is never indexed, also when it lies inside a folder being indexed.
  const sourceOptions = { ...(opts.captionExt !== undefined ? { captionExt: opts.captionExt } : {}), ...(isPostgresUrl(location) ? {} : { skip: [location] }) };
  const total = opts.quiet ? undefined : await countSources(paths, sourceOptions);

  const manifest = await Index.readManifest(location);

  let encoder: Encoder | undefined;
  let index: Index | undefined;
  const progress = createProgress(opts.quiet ? 'quiet' : 'auto', opts.dryRun ? 'checking' : 'indexing');
  try {
    if (opts.dryRun && !manifest) {
      // Nothing is stored yet: every readable item would be new. No model is needed to say so.
      const report = await Index.dryRunWithoutIndex(readSources(paths, sourceOptions), { ...(shard ? { shard } : {}) });
      printSummary(report, location, true);
      return report.rejected > 0 ? 1 : 0;
    }
    if (!opts.dryRun || hasModelOptions(opts)) encoder = await loadEncoder(opts, manifest?.model, location);
    const model = hasModelOptions(opts) ? await modelSpecOf(opts) : manifest?.model;
    index = await Index.open({ location, ...(encoder ? { encoder } : {}), create: !opts.dryRun, ...(model ? { model } : {}) });
    const report = await index.run(readSources(paths, sourceOptions), {
      dryRun: opts.dryRun ?? false,
      sync: opts.sync ?? false,
      truncate: opts.truncate ?? false,
      ...(shard ? { shard } : {}),
      ...(commitSize !== undefined ? { commitSize } : {}),
      ...(total !== undefined ? { total } : {}),
      ...parseEncoderOptions(opts),
      onProgress: (p) => progress.update({ done: p.done, rejected: p.rejected, elapsedSeconds: p.elapsedSeconds, ...(p.total !== undefined ? { total: p.total } : {}) }),
    });
    progress.stop();
    printSummary(report, index.location, opts.dryRun ?? false);
    if (opts.ann && !opts.dryRun) {
      if (!opts.quiet) process.stderr.write('building the ANN index …\n');
      const built = await index.buildAnn();
      if (!built) process.stderr.write('vbge index: too few items for an ANN index yet; searches stay exact\n');
    }
    return report.rejected > 0 ? 1 : 0;
  } finally {
    progress.stop();
    await index?.close();
    await encoder?.close();
  }
}

function printSummary(report: IndexRunReport, location: string, dryRun: boolean): void {
  const out = process.stderr;
  for (const r of report.rejects.slice(0, MAX_REJECT_LINES)) out.write(`vbge index: rejected ${r.source}: ${r.reason}\n`);
  if (report.rejected > MAX_REJECT_LINES) out.write(`vbge index: … and ${report.rejected - MAX_REJECT_LINES} more rejects (all are listed in the index's rejects record)\n`);
  const parts = [`${report.new} new`, `${report.changed} changed`, `${report.updated} metadata updated`, `${report.unchanged} unchanged`, `${report.removed} removed`, `${report.rejected} rejected`];
  if (report.otherShards > 0) parts.push(`${report.otherShards} left to other shards`);
  const embedded = report.new + report.changed;
  const rate = report.elapsedSeconds > 0 ? ` (${(embedded / report.elapsedSeconds).toFixed(1)} embedded/s)` : '';
  const verb = dryRun ? 'dry run, nothing changed' : `${formatDuration(report.elapsedSeconds)}${rate}`;
  out.write(`${dryRun ? 'would index' : 'indexed'} into ${location}: ${parts.join(', ')} — ${verb}\n`);
}
