/**
 * What `vbge index`, `search`, `serve` and `eval` share about indexes: where the index is
 * (`--index DIR` | `--store URL`), and which model fills or queries it — the model options when
 * given, else the model the index recorded when it was created.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_INDEX_DIR, isPostgresUrl } from '../store/location.js';
import { type ModelCliOptions, resolveModelFiles } from './model-options.js';
import { parsePositiveInt, parseThreads } from './parse.js';

export interface IndexLocationOptions {
  index?: string;
  store?: string;
}

export function addIndexLocationOptions(cmd: Command): Command {
  return cmd
    .option('--index <dir>', `the index folder (embedded LanceDB store; default ${DEFAULT_INDEX_DIR})`)
    .option('--store <url>', 'a postgres://user@host/db?index=NAME URL: the index in Postgres with pgvector');
}

/** The location the options name: a folder or a postgres:// URL. */
export function indexLocation(opts: IndexLocationOptions): string {
  if (opts.index !== undefined && opts.store !== undefined) throw new ConfigError('give --index DIR or --store URL, not both');
  if (opts.store !== undefined) {
    if (!isPostgresUrl(opts.store)) throw new ConfigError(`--store "${opts.store}": expected a postgres:// URL (for a folder, use --index DIR)`);
    return opts.store;
  }
  if (opts.index !== undefined && isPostgresUrl(opts.index)) throw new ConfigError(`--index takes a folder; for "${opts.index}" use --store`);
  return opts.index ?? DEFAULT_INDEX_DIR;
}

export function hasModelOptions(o: ModelCliOptions): boolean {
  return o.model !== undefined || o.weights !== undefined;
}

/** How to load this model again, as recorded in a new index: the published name, or absolute paths. */
export async function modelSpecOf(o: EncoderCliOptions): Promise<Record<string, string>> {
  const exif: Record<string, string> = o.exifOrientation ? { exifOrientation: 'true' } : {};
  if (o.model !== undefined) return { model: o.model, ...(o.textModel ? { textModel: o.textModel } : {}), ...exif };
  const files = await resolveModelFiles(o);
  return {
    ...exif,
    weights: resolve(files.weights),
    textModel: resolve(files.textModel),
    ...(files.visionConfig ? { visionConfig: resolve(files.visionConfig) } : {}),
    ...(files.textWeights ? { textWeights: resolve(files.textWeights) } : {}),
  };
}

export interface EncoderCliOptions extends ModelCliOptions {
  threads?: string;
  batchSize?: string;
  exifOrientation?: boolean;
}

export function parseEncoderOptions(o: EncoderCliOptions): { threads?: number; batchSize?: number } {
  return {
    ...(o.threads !== undefined ? { threads: parseThreads(o.threads) } : {}),
    ...(o.batchSize !== undefined ? { batchSize: parsePositiveInt(o.batchSize, '--batch-size') } : {}),
  };
}

/** Loads the model the options name, or else the one `recorded` by the index (`textOnly`: its text tower alone). */
export async function loadEncoder(
  o: EncoderCliOptions,
  recorded: Readonly<Record<string, string>> | undefined,
  where: string,
  { textOnly = false }: { textOnly?: boolean } = {},
): Promise<Encoder> {
  let model: ModelCliOptions = o;
  if (!hasModelOptions(o)) {
    if (!recorded || (recorded['model'] === undefined && recorded['weights'] === undefined))
      throw new ConfigError(`${where}: the index does not name its model; pass --model base|m3 or --weights FILE --text-model DIR`);
    model = { ...recorded };
  }
  const files = await resolveModelFiles(model);
  // Loaded here, not at start-up: commands that fail on their options, or need no model, stay fast.
  const { Encoder } = await import('../encoder.js');
  // The index's own preprocessing too, when its model is the one loaded.
  const exifOrientation = o.exifOrientation ?? (!hasModelOptions(o) && recorded?.['exifOrientation'] === 'true');
  return Encoder.load({ ...files, ...parseEncoderOptions(o), applyExifOrientation: exifOrientation, textOnly });
}
