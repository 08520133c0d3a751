/**
 * `vbge embed`: one JSON line `{"id", "embedding"}` per input (or a .npy matrix). Bad inputs get
 * one line each on stderr and a non-zero exit; every good input is still written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { type EncodeInput, Encoder } from '../encoder.js';
import { ConfigError } from '../errors.js';
import { formatFloat32 } from './float-format.js';
import { type InputId, type InputLine, readInputLines } from './jsonl-input.js';
import { addModelOptions, type ModelCliOptions, resolveModelFiles } from './model-options.js';
import { NpyWriter } from './npy.js';
import { parsePositiveInt } from './parse.js';

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
  addModelOptions(program.command('embed').description('embed texts, images and image+text pairs'))
    .option('--text <text>', 'a text to embed (with --image: a composed input)')
    .option('--image <path>', 'an image file to embed (with --text: a composed input)')
    .option('--input <file.jsonl>', 'JSONL inputs, one {"id", "text", "image"} object per line ("-" for stdin); image paths are relative to the working directory')
    .option('--output <file>', 'where to write (default stdout)')
    .option('--format <jsonl|npy>', 'jsonl lines {"id","embedding"}, or npy: a float32 [inputs, dim] matrix (rows of failed inputs are NaN)', 'jsonl')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (never changes a result)')
    .option('--batch-size <n>', 'most inputs per forward pass (never changes a result)')
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
  write(id: InputId, embedding: Float32Array | null): void;
  close(): Promise<void>;
}

function jsonlSink(path: string | undefined): Sink {
  const out: NodeJS.WritableStream | WriteStream = path ? createWriteStream(path) : process.stdout;
  return {
    write(id, embedding) {
      if (!embedding) return;
      const values = Array.from(embedding, formatFloat32).join(',');
      out.write(`{"id":${JSON.stringify(id)},"embedding":[${values}]}\n`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (out === process.stdout) return resolve();
        (out as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve()));
      }),
  };
}

function npySink(path: string, dim: number): Sink {
  const npy = new NpyWriter(path, dim);
  const failed = new Float32Array(dim).fill(NaN);
  return {
    write: (_id, embedding) => npy.append(embedding ?? failed),
    close: async () => npy.close(),
  };
}

export async function runEmbed(opts: EmbedOptions): Promise<number> {
  const threads = opts.threads === undefined ? undefined : parsePositiveInt(opts.threads, '--threads');
  const batchSize = opts.batchSize === undefined ? undefined : parsePositiveInt(opts.batchSize, '--batch-size');
  if (opts.format !== 'jsonl' && opts.format !== 'npy') throw new ConfigError(`--format must be jsonl or npy; got "${opts.format}"`);
  if (opts.format === 'npy' && !opts.output) throw new ConfigError('--format npy needs --output FILE.npy');
  const hasSingle = opts.text !== undefined || opts.image !== undefined;
  if (hasSingle && opts.input !== undefined) throw new ConfigError('give --text/--image or --input, not both');
  if (!hasSingle && opts.input === undefined) throw new ConfigError('nothing to embed: give --text and/or --image, or --input FILE.jsonl');

  const files = await resolveModelFiles(opts);
  const encoder = await Encoder.load({ ...files, threads, batchSize, applyExifOrientation: opts.exifOrientation ?? false });
  const sink = opts.format === 'npy' ? npySink(opts.output!, encoder.dim) : jsonlSink(opts.output);
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
        sink.write(line.id, null);
        continue;
      }
      const r = byLine.get(line)!;
      if (r.ok) sink.write(line.id, r.embedding);
      else {
        report(r.error.message);
        sink.write(line.id, null);
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
      }
    }
    await flush(chunk);
  } finally {
    await sink.close();
    await encoder.close();
  }
  return failures === 0 ? 0 : 1;
}
