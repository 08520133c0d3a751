import { closeSync, writeSync } from 'node:fs';
import { openOutputFile, writeError } from './output-file.js';

/**
 * A float32 `.npy` matrix written row by row. The header is padded to a fixed size so that
 * the row count can be patched in at the end without knowing it up front.
 */
export class NpyWriter {
  private static readonly HEADER_BYTES = 128;
  private readonly fd: number;
  private rows = 0;

  /** Opens (or takes the already opened `fd` of) `path`; a path that cannot be written is a ConfigError. */
  constructor(
    private readonly path: string,
    private readonly columns: number,
    fd?: number,
  ) {
    this.fd = fd ?? openOutputFile(path);
    try {
      this.writeHeader();
    } catch (err) {
      if (fd === undefined) closeSync(this.fd); // a descriptor we were handed is the caller's to close
      throw err;
    }
  }

  private writeHeader(): void {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${this.rows}, ${this.columns}), }`;
    const prefix = 10; // magic (6) + version (2) + header length (2)
    const header = Buffer.alloc(NpyWriter.HEADER_BYTES, 0x20);
    header.write('\x93NUMPY', 0, 'latin1');
    header[6] = 1;
    header[7] = 0;
    header.writeUInt16LE(NpyWriter.HEADER_BYTES - prefix, 8);
    header.write(dict, prefix, 'latin1');
    header[NpyWriter.HEADER_BYTES - 1] = 0x0a;
    this.writeAt(header, 0);
  }

  append(row: Float32Array): void {
    if (row.length !== this.columns) throw new Error(`${this.path}: row of ${row.length} values, expected ${this.columns}`);
    const bytes = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
    this.writeAt(bytes, NpyWriter.HEADER_BYTES + this.rows * this.columns * 4);
    this.rows++;
  }

  private writeAt(bytes: Buffer, position: number): void {
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, position + done);
    } catch (err) {
      throw writeError(this.path, err);
    }
  }

  close(): void {
    try {
      this.writeHeader();
    } finally {
      closeSync(this.fd);
    }
  }
}
