/**
 * Writes state dicts in the `torch.save` zip format (what `torch.load` reads): `<prefix>/data.pkl`
 * (pickle protocol 2 by default), `<prefix>/data/<n>` raw little-endian storages, and
 * `<prefix>/version`, as stored zip entries whose data is aligned to 64 bytes. Storages are
 * streamed to disk one at a time, so multi-GB checkpoints never sit in memory whole.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { BYTES_PER_ELEMENT, numel, type StoredDType } from '../../src/checkpoint/tensor.js';

export interface TorchZipTensorSpec {
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
  /**
   * The whole storage: bytes in memory, or a function yielding them in chunks when the storage is
   * written (streaming). Omitted when `shareStorageOf` or `sameObjectAs` is given.
   */
  readonly data?: Uint8Array | (() => Iterable<Uint8Array>);
  /** Storage length in elements; defaults to what `data` holds, or to what the view spans. */
  readonly storageNumel?: number;
  /** In elements; default 0. */
  readonly storageOffset?: number;
  /** Default: contiguous row-major. */
  readonly stride?: readonly number[];
  /** Use the storage of this earlier key (a separate tensor record with the same storage key). */
  readonly shareStorageOf?: string;
  /** Pickle this key as a memo reference to the tensor object of this earlier key. */
  readonly sameObjectAs?: string;
}

export interface TorchZipWriteOptions {
  /** The archive's top folder; default `archive` (torch uses the file stem). */
  readonly prefix?: string;
  /** Pickle protocol: 2 as torch.save writes, or 4 (SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE, FRAME). */
  readonly protocol?: 2 | 4;
  /** Write ZIP64 records even when the sizes do not need them. */
  readonly forceZip64?: boolean;
}

const STORAGE_CLASS: Record<StoredDType, string> = {
  float16: 'HalfStorage',
  float32: 'FloatStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

const ALIGNMENT = 64;
/** torch/miniz's extra-field id for alignment padding ("FB"). */
const PADDING_EXTRA_ID = 0x4246;
/** torch.save pickles at most this many dict items per SETITEMS batch (pickle's own batch size). */
const SETITEMS_BATCH = 1000;

interface PlannedStorage {
  readonly key: string;
  readonly dtype: StoredDType;
  readonly numel: number;
  readonly data: Uint8Array | (() => Iterable<Uint8Array>);
}

interface PlannedTensor {
  readonly name: string;
  readonly spec: TorchZipTensorSpec;
  readonly storage: PlannedStorage;
}

/** Writes `tensors` (in iteration order) to `path` as a torch.save zip archive. */
export function writeTorchZip(
  path: string,
  tensors: ReadonlyMap<string, TorchZipTensorSpec>,
  opts: TorchZipWriteOptions = {},
): void {
  const prefix = opts.prefix ?? 'archive';
  const storages: PlannedStorage[] = [];
  const planned = new Map<string, PlannedTensor>();
  for (const [name, spec] of tensors) {
    if (spec.sameObjectAs !== undefined) {
      const target = planned.get(spec.sameObjectAs);
      if (!target) throw new Error(`writeTorchZip: "${name}" is sameObjectAs "${spec.sameObjectAs}", which is not an earlier key`);
      planned.set(name, { name, spec: target.spec, storage: target.storage });
      continue;
    }
    let storage: PlannedStorage;
    if (spec.shareStorageOf !== undefined) {
      const target = planned.get(spec.shareStorageOf);
      if (!target) throw new Error(`writeTorchZip: "${name}" shares "${spec.shareStorageOf}", which is not an earlier key`);
      if (target.storage.dtype !== spec.dtype) throw new Error(`writeTorchZip: "${name}" shares a storage of another dtype`);
      storage = target.storage;
    } else {
      if (spec.data === undefined) throw new Error(`writeTorchZip: "${name}" has no data`);
      const item = BYTES_PER_ELEMENT[spec.dtype];
      const n =
        spec.storageNumel ??
        (spec.data instanceof Uint8Array ? spec.data.byteLength / item : (spec.storageOffset ?? 0) + viewSpan(spec));
      if (!Number.isSafeInteger(n)) throw new Error(`writeTorchZip: "${name}" data is not a whole number of elements`);
      if (spec.data instanceof Uint8Array && spec.data.byteLength !== n * item) {
        throw new Error(`writeTorchZip: "${name}" data has ${spec.data.byteLength} bytes, storage needs ${n * item}`);
      }
      storage = { key: String(storages.length), dtype: spec.dtype, numel: n, data: spec.data };
      storages.push(storage);
    }
    planned.set(name, { name, spec, storage });
  }

  const pickle = buildStateDictPickle([...tensors.keys()].map((k) => planned.get(k)!), tensors, opts.protocol ?? 2);
  const zip = new ZipStreamWriter(path, opts.forceZip64 ?? false);
  try {
    zip.addBytes(`${prefix}/data.pkl`, pickle);
    for (const s of storages) {
      const item = BYTES_PER_ELEMENT[s.dtype];
      zip.addChunks(`${prefix}/data/${s.key}`, s.numel * item, s.data instanceof Uint8Array ? [s.data] : s.data());
    }
    zip.addBytes(`${prefix}/version`, new TextEncoder().encode('3\n'));
    zip.finish();
  } finally {
    zip.close();
  }
}

export interface ZipArchiveEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Deflate this entry (zip method 8); torch.save never does, readers of checkpoints refuse it. */
  readonly deflate?: boolean;
}

/**
 * Writes a plain zip archive of small in-memory entries, with the same layout rules as
 * `writeTorchZip` (64-byte aligned stored data). For building unusual or broken archives in tests.
 */
export function writeZipArchive(path: string, entries: readonly ZipArchiveEntry[], opts: { forceZip64?: boolean } = {}): void {
  const zip = new ZipStreamWriter(path, opts.forceZip64 ?? false);
  try {
    for (const e of entries) {
      if (e.deflate) zip.addDeflated(e.name, e.data);
      else zip.addBytes(e.name, e.data);
    }
    zip.finish();
  } finally {
    zip.close();
  }
}

/** Elements a view spans in its storage: 1 + Σ (size−1)·stride (0 for an empty tensor). */
function viewSpan(spec: TorchZipTensorSpec): number {
  const stride = spec.stride ?? contiguousStride(spec.shape);
  if (numel(spec.shape) === 0) return 0;
  let span = 1;
  for (let d = 0; d < spec.shape.length; d++) span += (spec.shape[d]! - 1) * stride[d]!;
  return span;
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d]!;
  }
  return stride;
}

/** Emits the opcodes of an `OrderedDict` of `_rebuild_tensor_v2` records, like torch.save. */
function buildStateDictPickle(
  order: readonly PlannedTensor[],
  specs: ReadonlyMap<string, TorchZipTensorSpec>,
  protocol: 2 | 4,
): Uint8Array {
  const p = new PickleWriter(protocol);
  p.proto();
  p.global('collections', 'OrderedDict');
  p.emptyTuple();
  p.reduce();
  p.memoizeTop();
  const tensorMemo = new Map<string, number>();
  for (let start = 0; start < order.length; start += SETITEMS_BATCH) {
    p.mark();
    for (const t of order.slice(start, start + SETITEMS_BATCH)) {
      p.string(t.name);
      const alias = specs.get(t.name)!.sameObjectAs;
      if (alias !== undefined) {
        p.get(tensorMemo.get(alias)!);
        tensorMemo.set(t.name, tensorMemo.get(alias)!);
        continue;
      }
      const spec = t.spec;
      p.global('torch._utils', '_rebuild_tensor_v2');
      p.mark();
      p.mark();
      p.constString('storage');
      p.global('torch', STORAGE_CLASS[t.storage.dtype]);
      p.string(t.storage.key);
      p.constString('cpu');
      p.int(t.storage.numel);
      p.tuple();
      p.binpersid();
      p.int(spec.storageOffset ?? 0);
      p.intTuple(spec.shape);
      p.intTuple(spec.stride ?? contiguousStride(spec.shape));
      p.bool(false);
      p.global('collections', 'OrderedDict');
      p.emptyTuple();
      p.reduce();
      p.memoizeTop();
      p.tuple();
      p.memoizeTop();
      p.reduce();
      tensorMemo.set(t.name, p.memoizeTop());
    }
    p.setitems();
  }
  p.stop();
  return p.bytes();
}

/** A minimal pickle emitter with Python's memo conventions (repeated globals/constants by BINGET). */
class PickleWriter {
  private readonly chunks: number[] = [];
  private memoSize = 0;
  private readonly named = new Map<string, number>();

  constructor(private readonly protocol: 2 | 4) {}

  proto(): void {
    this.chunks.push(0x80, this.protocol);
    // A protocol-4 stream may be framed; one leading frame hint exercises FRAME in readers.
    if (this.protocol === 4) this.chunks.push(0x95, 0, 0, 0, 0, 0, 0, 0, 0);
  }
  mark(): void {
    this.chunks.push(0x28);
  }
  emptyTuple(): void {
    this.chunks.push(0x29);
  }
  tuple(): void {
    this.chunks.push(0x74);
  }
  reduce(): void {
    this.chunks.push(0x52);
  }
  binpersid(): void {
    this.chunks.push(0x51);
  }
  setitems(): void {
    this.chunks.push(0x75);
  }
  stop(): void {
    this.chunks.push(0x2e);
  }
  bool(v: boolean): void {
    this.chunks.push(v ? 0x88 : 0x89);
  }

  int(v: number): void {
    if (v >= 0 && v < 0x100) this.chunks.push(0x4b, v);
    else if (v >= 0 && v < 0x10000) this.chunks.push(0x4d, v & 0xff, v >> 8);
    else if (v >= -0x80000000 && v <= 0x7fffffff) this.chunks.push(0x4a, ...le(BigInt(v) & 0xffffffffn, 4));
    else {
      // LONG1: minimal two's-complement little-endian bytes
      let n = BigInt(v);
      const out: number[] = [];
      while (true) {
        out.push(Number(n & 0xffn));
        n >>= 8n;
        if ((n === 0n && !(out[out.length - 1]! & 0x80)) || (n === -1n && out[out.length - 1]! & 0x80)) break;
      }
      this.chunks.push(0x8a, out.length, ...out);
    }
  }

  intTuple(values: readonly number[]): void {
    if (values.length === 0) this.emptyTuple();
    else if (values.length <= 3) {
      for (const v of values) this.int(v);
      this.chunks.push(0x84 + values.length);
    } else {
      this.mark();
      for (const v of values) this.int(v);
      this.tuple();
    }
    this.memoizeTop();
  }

  string(s: string): void {
    const b = new TextEncoder().encode(s);
    if (this.protocol === 4 && b.length < 256) this.chunks.push(0x8c, b.length);
    else this.chunks.push(0x58, ...le(BigInt(b.length), 4));
    for (const x of b) this.chunks.push(x);
    this.memoizeTop();
  }

  /** A string Python would pickle once and reference afterwards (the same literal object). */
  constString(s: string): void {
    const id = this.named.get(`str:${s}`);
    if (id !== undefined) return this.get(id);
    this.string(s);
    this.named.set(`str:${s}`, this.memoSize - 1);
  }

  global(module: string, name: string): void {
    const id = this.named.get(`global:${module}.${name}`);
    if (id !== undefined) return this.get(id);
    if (this.protocol === 4) {
      this.string(module);
      this.string(name);
      this.chunks.push(0x93);
    } else {
      for (const c of `c${module}\n${name}\n`) this.chunks.push(c.charCodeAt(0));
    }
    this.named.set(`global:${module}.${name}`, this.memoizeTop());
  }

  get(id: number): void {
    if (id < 256) this.chunks.push(0x68, id);
    else this.chunks.push(0x6a, ...le(BigInt(id), 4));
  }

  /** Stores the top of the stack in the memo; returns its index. */
  memoizeTop(): number {
    const id = this.memoSize++;
    if (this.protocol === 4) this.chunks.push(0x94);
    else if (id < 256) this.chunks.push(0x71, id);
    else this.chunks.push(0x72, ...le(BigInt(id), 4));
    return id;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

interface WrittenEntry {
  readonly name: Uint8Array;
  readonly headerOffset: number;
  readonly size: number;
  readonly compressedSize: number;
  readonly method: number;
  readonly crc: number;
}

/** Appends stored entries to a file and writes the central directory at the end. */
class ZipStreamWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly entries: WrittenEntry[] = [];
  private closed = false;

  constructor(
    path: string,
    private readonly forceZip64: boolean,
  ) {
    this.fd = openSync(path, 'w');
  }

  addBytes(name: string, data: Uint8Array): void {
    this.addChunks(name, data.byteLength, [data]);
  }

  addDeflated(name: string, data: Uint8Array): void {
    const packed = deflateRawSync(data);
    this.addChunks(name, packed.byteLength, [packed], { method: 8, size: data.byteLength, crc: crc32(data) >>> 0 });
  }

  /**
   * Appends one entry of `size` bytes (as stored). `deflated` describes an already-compressed
   * payload: its method, uncompressed size and the CRC of the uncompressed data.
   */
  addChunks(
    name: string,
    size: number,
    chunks: Iterable<Uint8Array>,
    deflated?: { method: number; size: number; crc: number },
  ): void {
    const nameBytes = new TextEncoder().encode(name);
    const headerOffset = this.offset;
    const zip64 = this.forceZip64 || size >= 0xffffffff;
    const zip64Extra = zip64 ? 20 : 0;
    const base = headerOffset + 30 + nameBytes.length + zip64Extra + 4;
    const pad = (ALIGNMENT - (base % ALIGNMENT)) % ALIGNMENT;
    const header = Buffer.alloc(30 + nameBytes.length + zip64Extra + 4 + pad);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64 ? 45 : 20, 4);
    header.writeUInt16LE(0, 6); // flags
    header.writeUInt16LE(deflated?.method ?? 0, 8);
    header.writeUInt16LE(0, 10); // time
    header.writeUInt16LE(0x21, 12); // date 1980-01-01
    header.writeUInt32LE(0, 14); // crc, patched below
    header.writeUInt32LE(zip64 ? 0xffffffff : size, 18);
    header.writeUInt32LE(zip64 ? 0xffffffff : (deflated?.size ?? size), 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(zip64Extra + 4 + pad, 28);
    header.set(nameBytes, 30);
    let x = 30 + nameBytes.length;
    if (zip64) {
      header.writeUInt16LE(0x0001, x);
      header.writeUInt16LE(16, x + 2);
      header.writeBigUInt64LE(BigInt(deflated?.size ?? size), x + 4);
      header.writeBigUInt64LE(BigInt(size), x + 12);
      x += 20;
    }
    header.writeUInt16LE(PADDING_EXTRA_ID, x);
    header.writeUInt16LE(pad, x + 2);
    this.write(header);

    let crc = 0;
    let written = 0;
    for (const chunk of chunks) {
      crc = crc32(chunk, crc);
      written += chunk.byteLength;
      if (written > size) throw new Error(`writeTorchZip: "${name}" produced more than its ${size} bytes`);
      this.write(chunk);
    }
    if (written !== size) throw new Error(`writeTorchZip: "${name}" produced ${written} bytes, expected ${size}`);
    if (deflated) crc = deflated.crc;
    const crcBytes = Buffer.alloc(4);
    crcBytes.writeUInt32LE(crc >>> 0, 0);
    writeSync(this.fd, crcBytes, 0, 4, headerOffset + 14);
    this.entries.push({
      name: nameBytes,
      headerOffset,
      size: deflated?.size ?? size,
      compressedSize: size,
      method: deflated?.method ?? 0,
      crc: crc >>> 0,
    });
  }

  finish(): void {
    const cdOffset = this.offset;
    for (const e of this.entries) {
      const needs64 =
        this.forceZip64 || e.size >= 0xffffffff || e.compressedSize >= 0xffffffff || e.headerOffset >= 0xffffffff;
      const extraLen = needs64 ? 28 : 0;
      const rec = Buffer.alloc(46 + e.name.length + extraLen);
      rec.writeUInt32LE(0x02014b50, 0);
      rec.writeUInt16LE(needs64 ? 45 : 20, 4); // made by
      rec.writeUInt16LE(needs64 ? 45 : 20, 6); // needed
      rec.writeUInt16LE(0, 8);
      rec.writeUInt16LE(e.method, 10);
      rec.writeUInt16LE(0, 12);
      rec.writeUInt16LE(0x21, 14);
      rec.writeUInt32LE(e.crc, 16);
      rec.writeUInt32LE(needs64 ? 0xffffffff : e.compressedSize, 20);
      rec.writeUInt32LE(needs64 ? 0xffffffff : e.size, 24);
      rec.writeUInt16LE(e.name.length, 28);
      rec.writeUInt16LE(extraLen, 30);
      rec.writeUInt16LE(0, 32); // comment
      rec.writeUInt16LE(0, 34); // disk
      rec.writeUInt16LE(0, 36);
      rec.writeUInt32LE(0, 38);
      rec.writeUInt32LE(needs64 ? 0xffffffff : e.headerOffset, 42);
      rec.set(e.name, 46);
      if (needs64) {
        const x = 46 + e.name.length;
        rec.writeUInt16LE(0x0001, x);
        rec.writeUInt16LE(24, x + 2);
        rec.writeBigUInt64LE(BigInt(e.size), x + 4);
        rec.writeBigUInt64LE(BigInt(e.compressedSize), x + 12);
        rec.writeBigUInt64LE(BigInt(e.headerOffset), x + 20);
      }
      this.write(rec);
    }
    const cdSize = this.offset - cdOffset;
    const count = this.entries.length;
    const zip64 = this.forceZip64 || count >= 0xffff || cdOffset >= 0xffffffff || cdSize >= 0xffffffff;
    if (zip64) {
      const z64Offset = this.offset;
      const rec = Buffer.alloc(56 + 20);
      rec.writeUInt32LE(0x06064b50, 0);
      rec.writeBigUInt64LE(44n, 4);
      rec.writeUInt16LE(45, 12);
      rec.writeUInt16LE(45, 14);
      rec.writeUInt32LE(0, 16);
      rec.writeUInt32LE(0, 20);
      rec.writeBigUInt64LE(BigInt(count), 24);
      rec.writeBigUInt64LE(BigInt(count), 32);
      rec.writeBigUInt64LE(BigInt(cdSize), 40);
      rec.writeBigUInt64LE(BigInt(cdOffset), 48);
      rec.writeUInt32LE(0x07064b50, 56);
      rec.writeUInt32LE(0, 60);
      rec.writeBigUInt64LE(BigInt(z64Offset), 64);
      rec.writeUInt32LE(1, 72);
      this.write(rec);
    }
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(zip64 ? 0xffff : count, 8);
    eocd.writeUInt16LE(zip64 ? 0xffff : count, 10);
    eocd.writeUInt32LE(zip64 ? 0xffffffff : cdSize, 12);
    eocd.writeUInt32LE(zip64 ? 0xffffffff : cdOffset, 16);
    this.write(eocd);
  }

  close(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
  }

  private write(buf: Uint8Array): void {
    let done = 0;
    while (done < buf.byteLength) {
      done += writeSync(this.fd, buf, done, buf.byteLength - done, this.offset + done);
    }
    this.offset += buf.byteLength;
  }
}
