/**
 * `vbge embed`: one JSON line `{"id", "embedding"}` per input (or a .npy matrix). Bad inputs get
 * one line each on stderr and a non-zero exit; every good input is still written.
 */
import { closeSync, createWriteStream, existsSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { EncodeInput, Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { formatFloat32 } from './float-format.js';
import { type InputId, type InputLine, readInputLines } from './jsonl-input.js';
import { addModelOptions, addRunOptions, type ModelCliOptions, resolveModelFiles } from './model-options.js';
import { NpyWriter } from './npy.js';
import { checkInputFile, errnoCode, openOutputFile, writeError } from './output-file.js';
import { parsePositiveInt, parseThreads } from './parse.js';

interface EmbedOptions extends ModelCliOptions {
  text?: string;
  image?: string;
  input?: string;
  output?: string;
  format: string;
  threads?: string;
  batchSize?: string;
  truncate?: boolean;
  exifOrientation?: boolean;
}

/** Inputs are read and embedded this many at a time, so any input size streams in bounded memory. */
const CHUNK = 256;

export function registerEmbed(program: Command): void {
  addRunOptions(addModelOptions(program.command('embed').description('embed texts, images and image+text pairs')))
    .option('--text <text>', 'a text to embed (with --image: a composed input)')
    .option('--image <path>', 'an image file to embed (with --text: a composed input)')
    .option('--input <file.jsonl>', 'JSONL inputs, one {"id", "text", "image"} object per line ("-" for stdin); image paths are relative to the working directory')
    .option('--output <file>', 'where to write ("-" or none: stdout)')
    .option('--format <jsonl|npy>', 'jsonl lines {"id","embedding"}, or npy: a float32 [inputs, dim] matrix (rows of failed inputs are NaN)', 'jsonl')
    .option('--truncate', 'cut over-long texts instead of failing them')
    .option('--exif-orientation', 'apply EXIF orientation to images (diverges from upstream embeddings)')
    .action(async (opts: EmbedOptions) => {
      process.exitCode = await runEmbed(opts);
    });
}

async function* singleInput(opts: EmbedOptions): AsyncGenerator<InputLine> {
  yield { line: 1, id: 0, ...(opts.text !== undefined ? { text: opts.text } : {}), ...(opts.image !== undefined ? { image: opts.image } : {}) };
}

interface Sink {
  /** False once the reader has gone away (a closed pipe, as with `| head`): embedding more is pointless. */
  readonly open: boolean;
  write(id: InputId, embedding: Float32Array | null): Promise<void>;
  close(): Promise<void>;
}

/** Resolves when `out` can take more (or will never again: closed, failed). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (out.destroyed || !out.writableNeedDrain) return resolve();
    const done = (): void => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
  });
}

/**
 * JSON lines to `out`. A reader that goes away (EPIPE) ends the run quietly; any other write
 * error is reported once, as the run's error.
 */
function jsonlSink(out: Writable, where: string, owned: boolean): Sink {
  let gone = false;
  let failure: unknown;
  let lastWrite = Promise.resolve();
  const note = (err: unknown): void => {
    if (errnoCode(err) === 'EPIPE' || errnoCode(err) === 'ERR_STREAM_DESTROYED') gone = true;
    else failure ??= err;
  };
  out.on('error', note);
  const check = (): void => {
    if (failure !== undefined) throw writeError(where, failure);
  };
  return {
    get open() {
      check();
      return !gone;
    },
    async write(id, embedding) {
      if (!embedding || gone || failure !== undefined) return;
      const values = Array.from(embedding, formatFloat32).join(',');
      let more = true;
      lastWrite = new Promise<void>((resolve) => {
        more = out.write(`{"id":${JSON.stringify(id)},"embedding":[${values}]}\n`, (err?: Error | null) => {
          if (err) note(err);
          resolve();
        });
      });
      if (!more) await drained(out);
    },
    async close() {
      // Our stdout is not ours to end, but what we wrote must have landed (or failed) before we return.
      await lastWrite;
      // end()'s callback can see a failed last write before the 'error' event does.
      if (owned && !out.destroyed)
        await new Promise<void>((resolve) =>
          out.end((err?: Error | null) => {
            if (err) note(err);
            resolve();
          }),
        );
      check();
    },
  };
}

function npySink(path: string, fd: number, dim: number): Sink {
  const npy = new NpyWriter(path, dim, fd);
  const failed = new Float32Array(dim).fill(NaN);
  return {
    open: true,
    write: async (_id, embedding) => npy.append(embedding ?? failed),
    close: async () => npy.close(),
  };
}

/** Everything that can be checked without the model, so that a typo fails in milliseconds. */
function checkOptions(opts: EmbedOptions): { threads?: number; batchSize?: number } {
  const threads = opts.threads === undefined ? undefined : parseThreads(opts.threads);
  const batchSize = opts.batchSize === undefined ? undefined : parsePositiveInt(opts.batchSize, '--batch-size');
  if (opts.format !== 'jsonl' && opts.format !== 'npy') throw new ConfigError(`--format must be jsonl or npy; got "${opts.format}"`);
  if (opts.format === 'npy' && (!opts.output || opts.output === '-')) throw new ConfigError('--format npy needs --output FILE.npy (a file: its header is completed when the last row is written)');
  const hasSingle = opts.text !== undefined || opts.image !== undefined;
  if (hasSingle && opts.input !== undefined) throw new ConfigError('give --text/--image or --input, not both');
  if (!hasSingle && opts.input === undefined) throw new ConfigError('nothing to embed: give --text and/or --image, or --input FILE.jsonl');
  return { threads, batchSize };
}

export async function runEmbed(opts: EmbedOptions): Promise<number> {
  const { threads, batchSize } = checkOptions(opts);
  if (opts.input !== undefined) await checkInputFile(opts.input);
  // "-" is standard output, as for every file option of vbge.
  const output = opts.output === '-' ? undefined : opts.output;
  const created = output !== undefined && !existsSync(output);
  const fd = output === undefined ? undefined : openOutputFile(output);
  let encoder: Encoder;
  let sink: Sink;
  try {
    const files = await resolveModelFiles(opts);
    const { Encoder } = await import('../encoder.js');
    encoder = await Encoder.load({ ...files, threads, batchSize, applyExifOrientation: opts.exifOrientation ?? false });
    try {
      if (opts.format === 'npy') sink = npySink(output!, fd!, encoder.dim);
      else if (output !== undefined) sink = jsonlSink(createWriteStream(output, { fd: fd! }), output, true);
      else sink = jsonlSink(process.stdout, 'stdout', false);
    } catch (err) {
      await encoder.close();
      throw err;
    }
  } catch (err) {
    // Nothing was written: leave no empty file behind (an existing one is already truncated, as by `>`).
    if (fd !== undefined) {
      closeSync(fd);
      if (created) rmSync(output!, { force: true });
    }
    throw err;
  }
  let failures = 0;
  const nameOf = (line: InputLine): string => (opts.input !== undefined ? `line ${line.line}, id ${JSON.stringify(line.id)}` : 'input');
  const report = (message: string): void => {
    failures++;
    process.stderr.write(`vbge embed: ${message}\n`);
  };
  const flush = async (chunk: InputLine[]): Promise<void> => {
    const valid = chunk.filter((l): l is Extract<InputLine, { text?: string }> => !('error' in l));
    const inputs: EncodeInput[] = valid.map((l) => ({
      ...(l.text !== undefined ? { text: l.text } : {}),
      ...(l.image !== undefined ? { image: l.image } : {}),
      name: nameOf(l),
    }));
    const results = await encoder.encodeSettled(inputs, { truncate: opts.truncate ?? false, batchSize });
    const byLine = new Map(valid.map((l, k) => [l, results[k]!]));
    for (const line of chunk) {
      if ('error' in line) {
        report(`${nameOf(line)}: ${line.error}`);
        await sink.write(line.id, null);
        continue;
      }
      const r = byLine.get(line)!;
      if (r.ok) await sink.write(line.id, r.embedding);
      else {
        report(r.error.message);
        await sink.write(line.id, null);
      }
    }
  };
  try {
    let chunk: InputLine[] = [];
    for await (const line of opts.input !== undefined ? readInputLines(opts.input) : singleInput(opts)) {
      chunk.push(line);
      if (chunk.length >= CHUNK) {
        await flush(chunk);
        chunk = [];
        if (!sink.open) break;
      }
    }
    if (sink.open) await flush(chunk);
  } finally {
    try {
      await sink.close();
    } finally {
      await encoder.close();
    }
  }
  return failures === 0 ? 0 : 1;
}
