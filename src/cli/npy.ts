import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A float32 `.npy` matrix written row by row. The header is padded to a fixed size so that
 * the row count can be patched in at the end without knowing it up front.
 */
export class NpyWriter {
  private static readonly HEADER_BYTES = 128;
  private readonly fd: number;
  private rows = 0;

  constructor(
    private readonly path: string,
    private readonly columns: number,
  ) {
    this.fd = openSync(path, 'w');
    this.writeHeader();
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
    writeSync(this.fd, header, 0, header.length, 0);
  }

  append(row: Float32Array): void {
    if (row.length !== this.columns) throw new Error(`${this.path}: row of ${row.length} values, expected ${this.columns}`);
    const bytes = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
    writeSync(this.fd, bytes, 0, bytes.length, NpyWriter.HEADER_BYTES + this.rows * this.columns * 4);
    this.rows++;
  }

  close(): void {
    this.writeHeader();
    closeSync(this.fd);
  }
}
