/**
 * A read-only ZIP directory reader for `torch.save` archives: central directory (ZIP64 included),
 * local headers, and the data offset of each entry. Only stored (uncompressed) entries can be read;
 * data is never loaded here, only located.
 */
import { CheckpointError } from '../errors.js';
import { readExact } from './file-io.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated, ... */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** A central directory larger than this is not a checkpoint (torch writes ~100 bytes per tensor). */
const MAX_CENTRAL_DIRECTORY_BYTES = 256 * 1024 * 1024;

export class ZipDirectory {
  private readonly byName = new Map<string, ZipEntry>();

  private constructor(
    readonly path: string,
    readonly fileSize: number,
    readonly entries: readonly ZipEntry[],
  ) {
    for (const e of entries) this.byName.set(e.name, e);
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** Reads the central directory of the open file `fd` (of `fileSize` bytes). */
  static read(path: string, fd: number, fileSize: number): ZipDirectory {
    const fail = (msg: string): never => {
      throw new CheckpointError(path, `not a valid zip archive: ${msg}`);
    };
    if (fileSize < EOCD_SIZE) fail(`only ${fileSize} bytes long`);
    const tailLen = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
    const tailStart = fileSize - tailLen;
    const tail = readExact(path, fd, tailStart, tailLen);
    const tv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) fail('end-of-central-directory record not found (the file is truncated or not a zip)');

    let entryCount: number = tv.getUint16(eocd + 10, true);
    let cdSize: number = tv.getUint32(eocd + 12, true);
    let cdOffset: number = tv.getUint32(eocd + 16, true);
    const eocdAbs = tailStart + eocd;
    const locatorAbs = eocdAbs - 20;
    const hasLocator = locatorAbs >= 0 && eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_ZIP64_LOCATOR;
    if (hasLocator) {
      const z64Offset = Number(tv.getBigUint64(eocd - 20 + 8, true));
      if (z64Offset + 56 > locatorAbs) fail('ZIP64 end-of-central-directory offset out of range');
      const rec = readExact(path, fd, z64Offset, 56);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) fail('ZIP64 end-of-central-directory record not found');
      entryCount = Number(rv.getBigUint64(32, true));
      cdSize = Number(rv.getBigUint64(40, true));
      cdOffset = Number(rv.getBigUint64(48, true));
    } else if (entryCount === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      fail('ZIP64 sizes announced but the ZIP64 locator is missing');
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) fail(`central directory of ${cdSize} bytes is implausibly large`);
    if (cdOffset + cdSize > fileSize) fail('central directory lies beyond the end of the file (truncated?)');
    if (entryCount * 46 > cdSize) fail(`central directory too small for ${entryCount} entries`);

    const cd = readExact(path, fd, cdOffset, cdSize);
    const cv = new DataView(cd.buffer);
    const names = new TextDecoder('utf-8');
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < entryCount; i++) {
      if (p + 46 > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) fail(`central directory entry ${i} is corrupt`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc32 = cv.getUint32(p + 16, true);
      let compressedSize: number = cv.getUint32(p + 20, true);
      let size: number = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let localHeaderOffset: number = cv.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) fail(`central directory entry ${i} runs past the directory`);
      const name = names.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information: 8-byte values for exactly the fields saturated above, in order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = cv.getUint16(x, true);
        const len = cv.getUint16(x + 2, true);
        if (x + 4 + len > xEnd) fail(`extra field of "${name}" is corrupt`);
        if (id === 0x0001) {
          let q = x + 4;
          const next = (): number => {
            if (q + 8 > x + 4 + len) fail(`ZIP64 extra field of "${name}" is too short`);
            const v = Number(cv.getBigUint64(q, true));
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressedSize === 0xffffffff) compressedSize = next();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
        }
        x += 4 + len;
      }
      if (localHeaderOffset + 30 > cdOffset) fail(`local header of "${name}" lies outside the data area`);
      entries.push({ name, method, flags, crc32, compressedSize, size, localHeaderOffset });
      p = end;
    }
    return new ZipDirectory(path, fileSize, entries);
  }

  /**
   * The absolute offset of `entry`'s data, checked against the file size. Refuses compressed and
   * encrypted entries: torch.save writes stored entries, and its storages are read in place.
   */
  dataOffset(fd: number, entry: ZipEntry): number {
    const fail = (msg: string): never => {
      throw new CheckpointError(this.path, `zip entry "${entry.name}": ${msg}`);
    };
    if (entry.flags & 0x1) fail('is encrypted');
    if (entry.method !== 0) {
      fail(
        `is compressed (zip method ${entry.method}); torch.save writes uncompressed entries — ` +
          're-save the file with torch.save or re-zip it without compression (zip -0)',
      );
    }
    if (entry.compressedSize !== entry.size) fail('stored entry with differing compressed and uncompressed sizes');
    const h = readExact(this.path, fd, entry.localHeaderOffset, 30);
    const hv = new DataView(h.buffer);
    if (hv.getUint32(0, true) !== SIG_LOCAL) fail('local header signature not found (corrupt archive)');
    const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (start + entry.size > this.fileSize) {
      fail(`data (${entry.size} bytes at offset ${start}) runs past the end of the file (truncated?)`);
    }
    return start;
  }

  /** Reads a whole stored entry (for the small records: data.pkl, version, byteorder). */
  readEntry(fd: number, entry: ZipEntry, maxBytes: number): Uint8Array {
    if (entry.size > maxBytes) {
      throw new CheckpointError(this.path, `zip entry "${entry.name}" is ${entry.size} bytes, more than the ${maxBytes} allowed`);
    }
    return readExact(this.path, fd, this.dataOffset(fd, entry), entry.size);
  }
}
