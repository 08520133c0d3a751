import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir } from '../helpers/fixtures.js';
import { BYTES_PER_ELEMENT, readTorchZip, ZipDirectory, type StoredDType } from '../../src/checkpoint/index.js';
import { writeTorchZip, type TorchZipTensorSpec } from '../helpers/torch-zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic bytes (an LCG), so every tensor differs. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function tensor(dtype: StoredDType, shape: number[], seed: number): TorchZipTensorSpec {
  return { dtype, shape, data: bytes(shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype], seed) };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe('torch zip writer round trip', () => {
  const specs = new Map<string, TorchZipTensorSpec>([
    ['a.weight', tensor('float32', [3, 4], 1)],
    ['a.half', tensor('float16', [5, 2, 3], 2)],
    ['b.bf16', tensor('bfloat16', [7], 3)],
    ['b.f64', tensor('float64', [2, 2], 4)],
    ['ids', tensor('int64', [1, 9], 5)],
    ['i32', tensor('int32', [4], 6)],
    ['i16', tensor('int16', [4], 7)],
    ['i8', tensor('int8', [4], 8)],
    ['u8', tensor('uint8', [4], 9)],
    ['mask', { dtype: 'bool', shape: [5], data: Uint8Array.of(1, 0, 0, 1, 1) }],
    ['scalar', tensor('float16', [], 10)],
    ['empty', tensor('float32', [0, 3], 11)],
    ['rope.cos', tensor('float16', [6, 4], 12)],
    ['blocks.0.rope.cos', { dtype: 'float16', shape: [6, 4], shareStorageOf: 'rope.cos' }],
    ['blocks.1.rope.cos', { dtype: 'float16', shape: [6, 4], shareStorageOf: 'rope.cos' }],
    ['alias.of.a', { dtype: 'float32', shape: [3, 4], sameObjectAs: 'a.weight' }],
  ]);

  for (const protocol of [2, 4] as const) {
    for (const forceZip64 of [false, true]) {
      it(`protocol ${protocol}, zip64 ${forceZip64}: same keys, order, shapes, dtypes and bytes`, () => {
        const path = join(dir, `rt-${protocol}-${forceZip64}.pth`);
        writeTorchZip(path, specs, { protocol, forceZip64, prefix: 'some_stem' });
        const c = readTorchZip(path);
        expect(c.prefix).toBe('some_stem');
        expect([...c.tensors.keys()]).toEqual([...specs.keys()]);
        const source = (k: string): TorchZipTensorSpec => {
          const s = specs.get(k)!;
          return specs.get(s.shareStorageOf ?? s.sameObjectAs ?? k)!;
        };
        for (const [key, spec] of specs) {
          const t = c.tensors.get(key)!;
          expect(t.dtype, key).toBe(spec.dtype);
          expect(t.shape, key).toEqual(spec.shape);
          expect(equal(t.read(), source(key).data as Uint8Array), key).toBe(true);
        }
        // shared storage: one data record for the three rope keys
        expect(c.tensors.get('blocks.1.rope.cos')!.storageKey).toBe(c.tensors.get('rope.cos')!.storageKey);
        // memo reference: the very same tensor object under two keys
        expect(c.tensors.get('alias.of.a')).toBe(c.tensors.get('a.weight'));
        expect(c.storageCount).toBe(specs.size - 3);
        // data offsets are 64-byte aligned, as torch writes them
        const fd = openSync(path, 'r');
        try {
          const zip = ZipDirectory.read(path, fd, fstatSync(fd).size);
          expect(zip.entries.length).toBe(c.storageCount + 2);
          for (const e of zip.entries) expect(zip.dataOffset(fd, e) % 64, e.name).toBe(0);
        } finally {
          closeSync(fd);
        }
      });
    }
  }

  it('the protocol-4 pickle really uses protocol-4 opcodes', () => {
    const path = join(dir, 'p4.pth');
    writeTorchZip(path, new Map([['x', tensor('float32', [2], 1)]]), { protocol: 4 });
    const raw = readFileSync(path);
    const pkl = raw.subarray(raw.indexOf(Buffer.from([0x80, 0x04])));
    expect(pkl[2]).toBe(0x95); // FRAME
    expect(pkl.includes(0x93)).toBe(true); // STACK_GLOBAL
    expect(pkl.includes(0x8c)).toBe(true); // SHORT_BINUNICODE
  });

  it('views with storage offsets and non-contiguous strides read back row-major', () => {
    // storage of 24 float32 values 0..23; views: a slice at offset 4, a transposed [4,3] of [3,4], a strided column
    const storage = new Float32Array(24).map((_, i) => i);
    const data = new Uint8Array(storage.buffer);
    const specs2 = new Map<string, TorchZipTensorSpec>([
      ['whole', { dtype: 'float32', shape: [24], data }],
      ['slice', { dtype: 'float32', shape: [2, 3], shareStorageOf: 'whole', storageOffset: 4 }],
      ['transposed', { dtype: 'float32', shape: [4, 3], stride: [1, 4], shareStorageOf: 'whole' }],
      ['column', { dtype: 'float32', shape: [3], stride: [4], storageOffset: 2, shareStorageOf: 'whole' }],
      ['broadcast', { dtype: 'float32', shape: [2, 3], stride: [0, 1], storageOffset: 10, shareStorageOf: 'whole' }],
    ]);
    const path = join(dir, 'views.pth');
    writeTorchZip(path, specs2);
    const c = readTorchZip(path);
    const f = (k: string): number[] => Array.from(new Float32Array(c.tensors.get(k)!.read().slice().buffer));
    expect(f('slice')).toEqual([4, 5, 6, 7, 8, 9]);
    expect(f('transposed')).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(c.tensors.get('transposed')!.isContiguous).toBe(false);
    expect(f('column')).toEqual([2, 6, 10]);
    expect(f('broadcast')).toEqual([10, 11, 12, 10, 11, 12]);
    expect(c.storageCount).toBe(1);
  });

  it('streams chunked storages and checks their length', () => {
    const path = join(dir, 'chunks.pth');
    const chunk = bytes(1000, 3);
    writeTorchZip(
      path,
      new Map([['big', { dtype: 'uint8', shape: [3000], storageNumel: 3000, data: () => [chunk, chunk, chunk] }]]),
    );
    const got = readTorchZip(path).tensors.get('big')!.read();
    expect(equal(got.subarray(2000), chunk)).toBe(true);
    expect(() =>
      writeTorchZip(join(dir, 'short.pth'), new Map([['x', { dtype: 'uint8', shape: [10], storageNumel: 10, data: () => [chunk.subarray(0, 5)] }]])),
    ).toThrow(/produced 5 bytes, expected 10/);
  });

  it('rewriting a fixture gives the same tensors', () => {
    const src = readTorchZip(join(fixtureDir('tiny-bert-fp16'), 'Visualized_tiny-bert-fp16.pth'));
    const specs3 = new Map<string, TorchZipTensorSpec>();
    const firstOfStorage = new Map<string, string>();
    for (const [k, t] of src.tensors) {
      const owner = firstOfStorage.get(t.storageKey);
      if (owner) specs3.set(k, { dtype: t.dtype, shape: t.shape, shareStorageOf: owner });
      else {
        firstOfStorage.set(t.storageKey, k);
        specs3.set(k, { dtype: t.dtype, shape: t.shape, data: t.read() });
      }
    }
    const path = join(dir, 'copy.pth');
    writeTorchZip(path, specs3, { prefix: 'copy' });
    const c = readTorchZip(path);
    expect([...c.tensors.keys()]).toEqual([...src.tensors.keys()]);
    expect(c.storageCount).toBe(94);
    for (const [k, t] of src.tensors) expect(equal(c.tensors.get(k)!.read(), t.read()), k).toBe(true);
  });
});
