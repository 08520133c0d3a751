/**
 * Reads `.safetensors` files: u64-LE header length, a JSON header of
 * `{name: {dtype, shape, data_offsets: [begin, end]}}` (offsets relative to the data area), then
 * the raw little-endian data. Tensors are read from the file on demand.
 */
import { CheckpointError } from '../errors.js';
import { readExact, readFileRange, withOpenFile } from './file-io.js';
import { BYTES_PER_ELEMENT, numel, type StoredDType, type StoredTensor } from './tensor.js';
import { WeightMap } from './weight-map.js';

/** The reference implementation's header limit. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPES: Record<string, StoredDType> = {
  F16: 'float16',
  F32: 'float32',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

export class SafetensorsTensor implements StoredTensor {
  constructor(
    readonly file: string,
    readonly dtype: StoredDType,
    readonly shape: readonly number[],
    /** Absolute file offset of the first byte. */
    readonly fileOffset: number,
    readonly byteLength: number,
  ) {}

  read(): Uint8Array {
    return this.byteLength === 0 ? new Uint8Array(0) : readFileRange(this.file, this.fileOffset, this.byteLength);
  }
}

export interface SafetensorsContents {
  /** Tensors in the order of their data in the file. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The optional `__metadata__` string map. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** True when `head` (the file's first bytes) and `fileSize` look like a safetensors file. */
export function looksLikeSafetensors(head: Uint8Array, fileSize: number): boolean {
  if (head.length < 9 || fileSize < 10) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(Math.min(fileSize - 8, MAX_SAFETENSORS_HEADER_BYTES)) && head[8] === 0x7b; // '{'
}

export function readSafetensors(path: string): SafetensorsContents {
  return withOpenFile(path, (fd, size) => parse(path, fd, size));
}

export function openSafetensors(path: string): WeightMap {
  return WeightMap.fromTensors(readSafetensors(path).tensors, path);
}

function parse(path: string, fd: number, fileSize: number): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new CheckpointError(path, `invalid safetensors file: ${msg}`);
  };
  if (fileSize < 8) fail(`only ${fileSize} bytes long`);
  const lenBytes = readExact(path, fd, 0, 8);
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    fail(`header length ${headerLen} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  }
  if (headerLen > BigInt(fileSize - 8)) fail(`header length ${headerLen} runs past the end of the ${fileSize}-byte file (truncated?)`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readExact(path, fd, 8, n)));
  } catch (err) {
    return fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const found: { name: string; begin: number; end: number; tensor: SafetensorsTensor }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof raw !== 'object' || raw === null) fail(`entry "${name}" is not an object`);
    const dtype = typeof info.dtype === 'string' ? DTYPES[info.dtype] : undefined;
    if (!dtype) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(info.dtype)}`);
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(info.shape)}`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const shape = info.shape as number[];
    const expected = numel(shape) * BYTES_PER_ELEMENT[dtype!];
    if (end < begin) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] with end before begin`);
    if (end - begin !== expected) {
      fail(`tensor "${name}" ([${shape.join(', ')}] ${info.dtype}) needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataSize) {
      fail(`tensor "${name}" data_offsets [${begin}, ${end}] exceed the ${dataSize}-byte data area (truncated?)`);
    }
    found.push({ name, begin, end, tensor: new SafetensorsTensor(path, dtype!, shape, dataStart + begin, end - begin) });
  }
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < found.length; i++) {
    if (found[i]!.begin < found[i - 1]!.end) fail(`tensors "${found[i - 1]!.name}" and "${found[i]!.name}" overlap`);
  }
  return { tensors: new Map(found.map((f) => [f.name, f.tensor])), metadata };
}
