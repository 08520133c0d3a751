/**
 * `vbge pull base|m3` and `vbge pull REPO FILE...`: fill the Hugging Face cache ahead of time (for
 * example before going offline), with a progress bar on a terminal.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { VbgeError } from '../errors.js';
import {
  PUBLISHED,
  downloadFile,
  isPublishedModel,
  resolvePublishedModel,
  type HubFileDone,
  type HubOptions,
  type HubProgress,
} from '../hub/index.js';

export interface PullCommandOptions {
  revision?: string;
  cacheDir?: string;
}

export interface PullIo {
  stdout: { write(text: string): unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const FILE_LABEL_WIDTH = 48;

/** Runs the command; returns the exit code. Paths of the pulled files go to stdout, one a line. */
export async function runPull(
  target: string,
  files: readonly string[],
  options: PullCommandOptions = {},
  io: PullIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const report = io.stderr.isTTY === true ? new BarReport(io.stderr) : new LineReport(io.stderr);
  const hub: HubOptions = {
    onProgress: (p) => report.progress(p),
    onFileDone: (f) => report.done(f),
    ...(options.revision !== undefined ? { revision: options.revision } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  };
  try {
    const paths: string[] = [];
    if (files.length === 0 && isPublishedModel(target)) {
      const model = await resolvePublishedModel(target, hub);
      paths.push(model.weights, model.textModelDir);
    } else if (files.length > 0 && target.includes('/')) {
      for (const file of files) paths.push(await downloadFile(target, file, hub));
    } else if (target.includes('/')) {
      throw new VbgeError(`name the files to pull from ${target}: vbge pull ${target} FILE...`);
    } else {
      throw new VbgeError(
        `unknown model ${JSON.stringify(target)}: expected ${Object.keys(PUBLISHED).join(' or ')}, or a hub repository and files (vbge pull REPO FILE...)`,
      );
    }
    report.stop();
    for (const p of paths) io.stdout.write(`${p}\n`);
    return 0;
  } catch (err) {
    report.stop();
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`vbge pull: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

/** Adds `vbge pull` to the program. */
export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('download a published model (base, m3) or files of a hub repository into the Hugging Face cache')
    .argument('<model|repo>', `${Object.keys(PUBLISHED).join(' | ')}, or a hub repository id such as BAAI/bge-m3`)
    .argument('[files...]', 'files of the repository to download (with a repository id)')
    .option('--revision <rev>', 'branch, tag or commit of the repository (default: main)')
    .option('--cache-dir <dir>', 'hub cache folder (default: HF_HUB_CACHE, or HF_HOME/hub, or ~/.cache/huggingface/hub)')
    .addHelpText(
      'after',
      '\nEnvironment: HF_ENDPOINT (hub or mirror URL), HF_TOKEN (access token), HF_HOME / HF_HUB_CACHE (cache),\n' +
        'HF_HUB_OFFLINE=1 (use the cache only). The cache is shared with Python tools (huggingface_hub).',
    )
    .action(async (target: string, files: string[], options: PullCommandOptions) => {
      process.exitCode = await runPull(target, files, options);
    });
}

interface Report {
  progress(p: HubProgress): void;
  done(f: HubFileDone): void;
  stop(): void;
}

/** A terminal: one live bar per file. */
class BarReport implements Report {
  private readonly bars: MultiBar;
  private readonly byFile = new Map<string, SingleBar>();

  constructor(stream: NodeJS.WritableStream) {
    this.bars = new MultiBar(
      {
        stream,
        format: '{file} |{bar}| {percentage}% {got}/{size}',
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      Presets.shades_classic,
    );
  }

  progress(p: HubProgress): void {
    const payload = { file: label(p.file), got: formatBytes(p.received), size: formatBytes(p.total) };
    const bar = this.byFile.get(p.file);
    if (bar === undefined) this.byFile.set(p.file, this.bars.create(p.total, p.received, payload));
    else bar.update(p.received, payload);
  }

  done(f: HubFileDone): void {
    const key = `${f.repo}/${f.file}`;
    if (!this.byFile.has(key)) {
      // Already cached: show it complete, so that the list of files is whole.
      const payload = { file: label(`${key} (cached)`), got: formatBytes(f.size), size: formatBytes(f.size) };
      this.byFile.set(key, this.bars.create(Math.max(f.size, 1), Math.max(f.size, 1), payload));
    }
  }

  stop(): void {
    this.bars.stop();
  }
}

/** Not a terminal (logs, CI): one line per finished file. */
class LineReport implements Report {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  progress(): void {}

  done(f: HubFileDone): void {
    this.stream.write(`vbge pull: ${f.repo}/${f.file} ${formatBytes(f.size)} ${f.cached ? 'already cached' : 'downloaded'}\n`);
  }

  stop(): void {}
}

function label(name: string): string {
  return name.length <= FILE_LABEL_WIDTH ? name.padEnd(FILE_LABEL_WIDTH) : `…${name.slice(-(FILE_LABEL_WIDTH - 1))}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
