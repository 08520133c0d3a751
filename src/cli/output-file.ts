/** Opening `--output` (and checking `--input`) up front, so that a bad path fails before a model loads. */
import { constants, openSync, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, InputError } from '../errors.js';

/** The `code` of a Node system error (`ENOENT`, `EPIPE`, ...), if it has one. */
export const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Opens `path` for writing (created or truncated); a path that cannot be written is one clear ConfigError. */
export function openOutputFile(path: string, option = '--output'): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw outputError(path, option, err);
  }
}

function outputError(path: string, option: string, err: unknown): ConfigError {
  const where = `${option} ${path}`;
  switch (errnoCode(err)) {
    case 'ENOENT':
      return new ConfigError(`${where}: no such folder ${dirname(resolve(path))}`, { cause: err });
    case 'ENOTDIR':
      return new ConfigError(`${where}: a part of the path is a file, not a folder`, { cause: err });
    case 'EISDIR':
      return new ConfigError(`${where}: is a folder; name a file`, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new ConfigError(`${where}: not writable (${errnoCode(err)})`, { cause: err });
    default:
      return new ConfigError(`${where}: cannot open for writing (${(err as Error).message})`, { cause: err });
  }
}

/** Checks that an input file exists, is a file and can be read ("-", stdin, always can). */
export async function checkInputFile(path: string, option = '--input'): Promise<void> {
  if (path === '-') return;
  const where = `${option} ${path}`;
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new InputError(where, 'no such file', { cause: err });
    throw new InputError(where, `cannot read (${(err as Error).message})`, { cause: err });
  }
  if (info.isDirectory()) throw new InputError(where, 'is a folder, not a JSONL file');
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new InputError(where, `not readable (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
  }
}

/** A write that failed part way (disk full, I/O error): one line naming the output. */
export function writeError(where: string, err: unknown): ConfigError {
  return new ConfigError(`${where}: write failed (${errnoCode(err) ?? (err as Error).message})`, { cause: err });
}
