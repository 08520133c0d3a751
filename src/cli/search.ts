/**
 * `vbge search`: a text, an image, both (composed), or an indexed item (`--like ID`) against an
 * index. A readable table by default; `--json` prints one array `[{"id", "path"?, "text"?, "score",
 * …metadata}]`, best first, ties by id. The index's own model is loaded unless model options are given;
 * `--like` needs no model at all.
 */
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { hitJson } from '../index/hit-json.js';
import { Index } from '../index/index.js';
import type { Query, SearchHit } from '../index/types.js';
import { LIMITS } from '../limits.js';
import { addModelOptions } from './model-options.js';
import { type EncoderCliOptions, type IndexLocationOptions, addIndexLocationOptions, indexLocation, loadEncoder, parseEncoderOptions } from './index-options.js';

interface SearchCommandOptions extends EncoderCliOptions, IndexLocationOptions {
  text?: string;
  image?: string;
  like?: string;
  k: string;
  offset?: string;
  where?: string;
  ann?: boolean;
  exact?: boolean;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  const cmd = program.command('search').description('search an index with a text, an image, both (composed), or an indexed item');
  addIndexLocationOptions(addModelOptions(cmd))
    .option('--text <text>', 'a text query (with --image: a composed query)')
    .option('--image <path>', 'an image query (with --text: a composed query)')
    .option('--like <id>', '"more like this": the indexed item with this id (itself excluded)')
    .option('--k <n>', 'how many results', '10')
    .option('--offset <n>', 'results to skip (paging)')
    .option('--where <expr>', "metadata filter, e.g. \"year >= 2020 AND kind IN ('photo', 'scan')\"")
    .option('--ann', "use the store's approximate index (the default when the index has one, built by vbge index --ann)")
    .option('--exact', 'scan exactly even when the index has an approximate index')
    .option('--json', 'print one JSON array of results')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--exif-orientation', 'apply EXIF orientation to the query image')
    .action(async (opts: SearchCommandOptions) => {
      process.exitCode = await runSearch(opts);
    });
}

function parseCount(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new ConfigError(`${option} must be an integer ≥ ${min}; got "${value}"`);
  if (n > LIMITS.maxSearchResults) throw new ConfigError(`${option} is ${n}, the limit is ${LIMITS.maxSearchResults}`);
  return n;
}

async function runSearch(opts: SearchCommandOptions): Promise<number> {
  const location = indexLocation(opts);
  const k = parseCount(opts.k, '--k', 1);
  const offset = opts.offset !== undefined ? parseCount(opts.offset, '--offset', 0) : 0;
  parseEncoderOptions(opts);
  if (opts.like !== undefined && (opts.text !== undefined || opts.image !== undefined)) throw new ConfigError('give --like ID, or --text and/or --image, not both');
  if (opts.ann && opts.exact) throw new ConfigError('give --ann or --exact, not both');
  if (opts.like === undefined && opts.text === undefined && opts.image === undefined) throw new ConfigError('nothing to search for: give --text, --image, both, or --like ID');
  const query: Query = opts.like !== undefined ? { id: opts.like } : { ...(opts.text !== undefined ? { text: opts.text } : {}), ...(opts.image !== undefined ? { image: opts.image } : {}) };

  const manifest = await Index.readManifest(location);
  if (!manifest) throw new ConfigError(`${location}: no index here (create one with \`vbge index PATH…\`)`);

  let encoder: Encoder | undefined;
  let index: Index | undefined;
  try {
    // A text query needs no vision tower: opening only the text tower's session halves the load.
    if (opts.like === undefined) encoder = await loadEncoder(opts, manifest.model, location, { textOnly: opts.image === undefined });
    index = await Index.open({ location, ...(encoder ? { encoder } : {}) });
    // An index built with --ann is searched through its ANN index unless --exact says otherwise.
    const ann = opts.ann ?? (!opts.exact && (await index.hasAnn()));
    const hits = await index.search(query, { k, offset, ann, ...(opts.where !== undefined ? { where: opts.where } : {}) });
    process.stdout.write(opts.json ? `${JSON.stringify(hits.map(hitJson))}\n` : table(hits, offset));
    return 0;
  } finally {
    await index?.close();
    await encoder?.close();
  }
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

function table(hits: readonly SearchHit[], offset: number): string {
  if (hits.length === 0) return 'no results\n';
  const rows = hits.map((h, i) => {
    // The path is shown when the id does not already say it.
    const what = h.path !== undefined && resolve(h.id) !== h.path ? relative(process.cwd(), h.path) || h.path : '';
    const text = h.text !== undefined ? `"${clip(h.text, 50)}"` : '';
    const meta = Object.keys(h.metadata).length > 0 ? clip(JSON.stringify(h.metadata), 60) : '';
    return [String(offset + i + 1), h.score.toFixed(4), h.id, [what, text, meta].filter(Boolean).join('  ')];
  });
  const header = ['#', 'score', 'id', ''];
  const widths = [0, 1, 2].map((c) => Math.max(header[c]!.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => `${r[0]!.padStart(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`.trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
