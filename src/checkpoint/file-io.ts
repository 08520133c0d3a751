/** Positional reads of weights files, with errors that name the file. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from '../errors.js';

/** Largest single readSync call (Node caps one read at 2^31 − 1 bytes). */
const MAX_READ_CHUNK = 1 << 30;

/** Opens `path` for reading; a missing file, a folder or an unreadable file is a CheckpointError. */
export function openRegularFile(path: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot open (${(err as Error).message})`;
    throw new CheckpointError(path, why, { cause: err });
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new CheckpointError(path, st.isDirectory() ? 'is a folder, expected a weights file' : 'is not a regular file');
  }
  return { fd, size: st.size };
}

/** Reads exactly `length` bytes at `position`; a short read means the file is truncated. */
export function readExact(path: string, fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, Math.min(length - done, MAX_READ_CHUNK), position + done);
    if (n === 0) {
      throw new CheckpointError(
        path,
        `file is truncated: wanted ${length} bytes at offset ${position}, the file ends after ${done} of them`,
      );
    }
    done += n;
  }
  return out;
}

/** Opens, reads one range and closes: what lazy tensors do on `read()`. */
export function readFileRange(path: string, position: number, length: number): Uint8Array {
  const { fd } = openRegularFile(path);
  try {
    return readExact(path, fd, position, length);
  } finally {
    closeSync(fd);
  }
}

/** Runs `fn` with an open descriptor and closes it whatever happens. */
export function withOpenFile<T>(path: string, fn: (fd: number, size: number) => T): T {
  const { fd, size } = openRegularFile(path);
  try {
    return fn(fd, size);
  } finally {
    closeSync(fd);
  }
}
