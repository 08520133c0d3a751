/**
 * Reads `torch.save` zip archives (`.pth`, `pytorch_model.bin`): the pickled state dict gives
 * each tensor's storage, offset, size and stride; storages stay in the file and are read on demand.
 */
import { CheckpointError } from '../errors.js';
import { readFileRange, withOpenFile } from './file-io.js';
import { PickleDict, PickleGlobal, PickleObject, PickleTuple, unpickle, type PickleValue } from './pickle.js';
import { BYTES_PER_ELEMENT, numel, type StoredDType, type StoredTensor } from './tensor.js';
import { WeightMap } from './weight-map.js';
import { ZipDirectory, type ZipEntry } from './zip.js';

/** The pickle of a state dict is ~200 bytes per tensor; anything near this is not a state dict. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const MAX_SMALL_RECORD_BYTES = 1024;

/** `torch.<Name>Storage` → element type. */
const STORAGE_DTYPES: Record<string, StoredDType> = {
  HalfStorage: 'float16',
  FloatStorage: 'float32',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const REBUILD_TENSOR_V2 = 'torch._utils._rebuild_tensor_v2';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_WITH_STATE = 'torch._utils._rebuild_parameter_with_state';
const ORDERED_DICT = 'collections.OrderedDict';

/** Everything a state dict needs; any other global is refused by name. */
const ALLOWED_GLOBALS = new Set<string>([
  ORDERED_DICT,
  REBUILD_TENSOR_V2,
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  REBUILD_PARAMETER_WITH_STATE,
  ...Object.keys(STORAGE_DTYPES).map((n) => `torch.${n}`),
]);

/** One `data/<key>` record, located in the file. */
interface StorageRecord {
  readonly key: string;
  readonly entry: ZipEntry;
  readonly dataOffset: number;
}

/** A tensor of a torch zip archive; its bytes are read from the file on each `read()`. */
export class TorchZipTensor implements StoredTensor {
  constructor(
    readonly file: string,
    readonly dtype: StoredDType,
    readonly shape: readonly number[],
    /** The archive's storage key (`data/<key>`); tensors with the same key share bytes. */
    readonly storageKey: string,
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    readonly stride: readonly number[],
    private readonly storageDataOffset: number,
  ) {}

  get isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d]! !== 1 && this.stride[d]! !== expected) return false;
      expected *= this.shape[d]!;
    }
    return true;
  }

  read(): Uint8Array {
    const item = BYTES_PER_ELEMENT[this.dtype];
    const count = numel(this.shape);
    if (count === 0) return new Uint8Array(0);
    const base = this.storageDataOffset + this.storageOffset * item;
    if (this.isContiguous) return readFileRange(this.file, base, count * item);
    // General strides: read the span the view covers, then gather element by element.
    let span = 1;
    for (let d = 0; d < this.shape.length; d++) span += (this.shape[d]! - 1) * this.stride[d]!;
    const src = readFileRange(this.file, base, span * item);
    const out = new Uint8Array(count * item);
    const index = new Array<number>(this.shape.length).fill(0);
    let srcElem = 0;
    for (let i = 0; i < count; i++) {
      out.set(src.subarray(srcElem * item, srcElem * item + item), i * item);
      for (let d = this.shape.length - 1; d >= 0; d--) {
        index[d]!++;
        srcElem += this.stride[d]!;
        if (index[d]! < this.shape[d]!) break;
        srcElem -= this.stride[d]! * this.shape[d]!;
        index[d] = 0;
      }
    }
    return out;
  }
}

export interface TorchZipContents {
  /** Tensors in the order of the pickled dict. Keys pickled as one object share one StoredTensor. */
  readonly tensors: Map<string, TorchZipTensor>;
  /** The archive's top folder (the file stem at save time, or `archive`). */
  readonly prefix: string;
  /** The `version` / `.data/version` record. */
  readonly version: number;
  /** Distinct `data/<key>` records the tensors use. */
  readonly storageCount: number;
}

/** Reads a torch.save zip archive. Tensor bytes are not read until `read()`. */
export function readTorchZip(path: string): TorchZipContents {
  return withOpenFile(path, (fd, size) => readArchive(path, fd, size));
}

/** A torch.save zip archive as a WeightMap. */
export function openTorchZip(path: string): WeightMap {
  return WeightMap.fromTensors(readTorchZip(path).tensors, path);
}

function readArchive(path: string, fd: number, fileSize: number): TorchZipContents {
  const fail = (msg: string): never => {
    throw new CheckpointError(path, msg);
  };
  const zip = ZipDirectory.read(path, fd, fileSize);
  const pickles = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length === 0) {
    fail('zip archive without a "<folder>/data.pkl" record: not a torch.save file');
  }
  if (pickles.length > 1) {
    fail(`zip archive with ${pickles.length} "data.pkl" records (${pickles.map((e) => e.name).join(', ')}): ambiguous`);
  }
  const prefix = pickles[0]!.name.slice(0, -'/data.pkl'.length);

  const versionEntry = zip.get(`${prefix}/.data/version`) ?? zip.get(`${prefix}/version`);
  if (!versionEntry) fail(`torch archive "${prefix}/" has no "version" record (truncated or not written by torch.save)`);
  const versionText = new TextDecoder().decode(zip.readEntry(fd, versionEntry!, MAX_SMALL_RECORD_BYTES)).trim();
  if (!/^\d+$/.test(versionText)) fail(`torch archive version record is "${versionText.slice(0, 40)}", not a number`);
  const byteorderEntry = zip.get(`${prefix}/byteorder`);
  if (byteorderEntry) {
    const order = new TextDecoder().decode(zip.readEntry(fd, byteorderEntry, MAX_SMALL_RECORD_BYTES)).trim();
    if (order !== 'little') fail(`torch archive byte order is "${order}"; only little-endian archives are supported`);
  }

  const pickleBytes = zip.readEntry(fd, pickles[0]!, MAX_PICKLE_BYTES);
  const storages = new Map<string, StorageRecord>();
  const resolveStorage = (key: string): StorageRecord => {
    let rec = storages.get(key);
    if (!rec) {
      const entry = zip.get(`${prefix}/data/${key}`);
      if (!entry) fail(`storage "${key}" is referenced by data.pkl but "${prefix}/data/${key}" is missing`);
      rec = { key, entry: entry!, dataOffset: zip.dataOffset(fd, entry!) };
      storages.set(key, rec);
    }
    return rec;
  };

  const root = unpickle(pickleBytes, torchHooks(path, resolveStorage), path, `${prefix}/data.pkl`);
  if (!(root instanceof PickleDict)) fail('data.pkl does not hold a dict of tensors (not a state dict)');
  const tensors = new Map<string, TorchZipTensor>();
  for (const [key, value] of (root as PickleDict).entries) {
    if (typeof key !== 'string') fail(`state dict key ${String(key)} is not a string`);
    if (!(value instanceof PickleObject) || !(value.payload instanceof TorchZipTensor)) {
      fail(`state dict entry "${String(key)}" is not a tensor (${describe(value)}); expected a plain state dict`);
    }
    tensors.set(key as string, (value as PickleObject<TorchZipTensor>).payload);
  }
  return { tensors, prefix, version: Number(versionText), storageCount: storages.size };
}

/** A persistent id resolved to a storage, typed by its pickled class. */
class TypedStorageRef {
  constructor(
    readonly record: StorageRecord,
    readonly dtype: StoredDType,
  ) {}
}

function torchHooks(path: string, resolveStorage: (key: string) => StorageRecord) {
  const fail = (msg: string): never => {
    throw new CheckpointError(path, `data.pkl: ${msg}`);
  };
  const int = (v: PickleValue | undefined, what: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} is not a non-negative integer`);
    return v as number;
  };
  const intTuple = (v: PickleValue | undefined, what: string): number[] => {
    if (!(v instanceof PickleTuple)) return fail(`${what} is not a tuple`);
    return v.items.map((x, i) => int(x, `${what}[${i}]`));
  };

  const rebuildTensor = (args: readonly PickleValue[]): PickleObject<TorchZipTensor> => {
    const storage = args[0];
    if (!(storage instanceof PickleObject) || !(storage.payload instanceof TypedStorageRef)) {
      return fail('tensor record without a storage persistent id');
    }
    const ref = storage.payload as TypedStorageRef;
    const offset = int(args[1], 'storage_offset');
    const shape = intTuple(args[2], 'size');
    const stride = intTuple(args[3], 'stride');
    if (stride.length !== shape.length) fail(`size has ${shape.length} dims but stride has ${stride.length}`);
    const count = numel(shape);
    if (!Number.isSafeInteger(count)) fail(`tensor size [${shape.join(', ')}] is too large`);
    const item = BYTES_PER_ELEMENT[ref.dtype];
    if (count > 0) {
      let last = offset;
      for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
      if ((last + 1) * item > ref.record.entry.size) {
        fail(
          `tensor [${shape.join(', ')}] at storage offset ${offset} with stride [${stride.join(', ')}] needs ` +
            `${(last + 1) * item} bytes but storage "${ref.record.key}" has ${ref.record.entry.size}`,
        );
      }
    }
    return new PickleObject(
      new TorchZipTensor(path, ref.dtype, shape, ref.record.key, offset, stride, ref.record.dataOffset),
    );
  };

  return {
    resolveGlobal(module: string, name: string): PickleGlobal {
      const qualified = `${module}.${name}`;
      if (!ALLOWED_GLOBALS.has(qualified)) {
        fail(
          `refusing global "${qualified}": a weights file may only reference state-dict types ` +
            '(OrderedDict, tensors, storages); nothing in it is executed',
        );
      }
      return new PickleGlobal(module, name);
    },

    call(callable: PickleGlobal, args: readonly PickleValue[]): PickleValue {
      switch (callable.qualifiedName) {
        case ORDERED_DICT: {
          const d = new PickleDict();
          if (args.length === 1 && (Array.isArray(args[0]) || args[0] instanceof PickleTuple)) {
            const pairs = Array.isArray(args[0]) ? args[0] : args[0].items;
            for (const p of pairs) {
              const kv = p instanceof PickleTuple ? p.items : Array.isArray(p) ? p : [];
              if (kv.length !== 2 || typeof kv[0] !== 'string') fail('OrderedDict item is not a (str, value) pair');
              d.entries.set(kv[0] as string, kv[1]!);
            }
          } else if (args.length !== 0) fail('OrderedDict called with unexpected arguments');
          return d;
        }
        case REBUILD_TENSOR_V2:
        case REBUILD_TENSOR:
          if (args.length < 4) fail(`${callable.name} called with ${args.length} arguments`);
          return rebuildTensor(args);
        case REBUILD_PARAMETER:
        case REBUILD_PARAMETER_WITH_STATE: {
          const data = args[0];
          if (!(data instanceof PickleObject) || !(data.payload instanceof TorchZipTensor)) {
            fail(`${callable.name} of something that is not a tensor`);
          }
          return data as PickleValue;
        }
        default:
          return fail(`"${callable.qualifiedName}" cannot be called`);
      }
    },

    persistentLoad(pid: PickleValue): PickleValue {
      if (!(pid instanceof PickleTuple) || pid.items[0] !== 'storage' || pid.items.length < 3) {
        return fail(`unsupported persistent id (${describe(pid)}); expected ('storage', class, key, location, numel)`);
      }
      const cls = pid.items[1];
      const key = pid.items[2];
      if (!(cls instanceof PickleGlobal) || cls.module !== 'torch' || !(cls.name in STORAGE_DTYPES)) {
        return fail(`persistent id with an unknown storage class (${describe(cls ?? null)})`);
      }
      if (typeof key !== 'string' || key.length === 0 || key.includes('/')) fail('persistent id with a bad storage key');
      return new PickleObject(new TypedStorageRef(resolveStorage(key as string), STORAGE_DTYPES[cls.name]!));
    },
  };
}

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickleTuple) return 'a tuple';
  if (v instanceof PickleDict) return 'a dict';
  if (v instanceof PickleGlobal) return v.qualifiedName;
  if (v instanceof PickleObject) return 'an object';
  return typeof v;
}
