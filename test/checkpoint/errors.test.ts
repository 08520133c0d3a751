import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, copyFileSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors.js';
import { fixtureDir } from '../helpers/fixtures.js';
import {
  loadVisualizedWeights,
  openCheckpoint,
  readSafetensors,
  readTorchZip,
  sha256File,
  ZipDirectory,
} from '../../src/checkpoint/index.js';
import { writeTorchZip, writeZipArchive } from '../helpers/torch-zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FP16 = join(fixtureDir('tiny-bert-fp16'), 'Visualized_tiny-bert-fp16.pth');
const BERT = join(fixtureDir('tiny-bert'), 'Visualized_tiny-bert.pth');
const FP16_BYTES = readFileSync(FP16);

function expectCheckpointError(fn: () => unknown, file: string, re: RegExp): CheckpointError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a CheckpointError matching ${re}`).toBeInstanceOf(CheckpointError);
  const ce = err as CheckpointError;
  expect(ce.message).toContain(file);
  expect(ce.file).toBe(file);
  expect(ce.message).toMatch(re);
  return ce;
}

let counter = 0;
function fileWith(bytes: Uint8Array, name = `f${counter++}.bin`): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** The fixture's data.pkl and storages, to re-pack with one thing changed. */
function fixtureRecords(): { pickle: Uint8Array; storages: Map<string, Uint8Array> } {
  const fd = openSync(FP16, 'r');
  try {
    const zip = ZipDirectory.read(FP16, fd, fstatSync(fd).size);
    const storages = new Map<string, Uint8Array>();
    let pickle: Uint8Array = new Uint8Array();
    for (const e of zip.entries) {
      const data = zip.readEntry(fd, e, 1 << 20);
      if (e.name.endsWith('/data.pkl')) pickle = data;
      const m = /\/data\/(\d+)$/.exec(e.name);
      if (m) storages.set(m[1]!, data);
    }
    return { pickle, storages };
  } finally {
    closeSync(fd);
  }
}

function repack(
  name: string,
  pickle: Uint8Array | null,
  storages: Map<string, Uint8Array>,
  extra: { name: string; data: Uint8Array; deflate?: boolean }[] = [],
  opts: { version?: boolean; deflatePickle?: boolean } = {},
): string {
  const path = join(dir, name);
  const entries = [];
  if (pickle) entries.push({ name: 'arch/data.pkl', data: pickle, deflate: opts.deflatePickle ?? false });
  for (const [k, v] of storages) entries.push({ name: `arch/data/${k}`, data: v });
  if (opts.version ?? true) entries.push({ name: 'arch/version', data: new TextEncoder().encode('3\n') });
  entries.push(...extra);
  writeZipArchive(path, entries);
  return path;
}

const latin1 = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('unreadable files fail with a CheckpointError naming the file', () => {
  it('missing file, folder, empty file', () => {
    const missing = join(dir, 'nope.pth');
    expectCheckpointError(() => openCheckpoint(missing), missing, /file not found/);
    expectCheckpointError(() => loadVisualizedWeights(missing), missing, /file not found/);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expectCheckpointError(() => openCheckpoint(folder), folder, /is a folder/);
    const empty = fileWith(new Uint8Array(0));
    expectCheckpointError(() => openCheckpoint(empty), empty, /empty/);
  });

  it('missing file for sha256File rejects with a CheckpointError', async () => {
    const missing = join(dir, 'nope2.pth');
    await expect(sha256File(missing)).rejects.toThrow(CheckpointError);
    await expect(sha256File(missing)).rejects.toThrow(/nope2\.pth: file not found/);
  });

  it('random bytes', () => {
    let s = 12345;
    for (const n of [1, 7, 100, 4096, 100_000]) {
      const b = new Uint8Array(n).map(() => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 24));
      const p = fileWith(b);
      expectCheckpointError(() => openCheckpoint(p), p, /unrecognised weights format/);
      // the same bytes behind a zip magic are "not a valid zip"
      const z = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...b]);
      const pz = fileWith(z);
      expectCheckpointError(() => openCheckpoint(pz), pz, /not a valid zip archive|not a torch\.save/);
    }
  });

  it.each([1, 4, 30, 200, 5000, 125_000, 250_000, FP16_BYTES.length - 100, FP16_BYTES.length - 22, FP16_BYTES.length - 1])(
    'truncated at %i bytes',
    (cut) => {
      const p = fileWith(FP16_BYTES.subarray(0, cut));
      expectCheckpointError(() => openCheckpoint(p), p, /truncated|not a valid zip|unrecognised/);
    },
  );

  it('a file truncated after opening fails on read, not with a crash', () => {
    const p = join(dir, 'shrinks.pth');
    copyFileSync(FP16, p);
    const w = openCheckpoint(p);
    truncateSync(p, 10_000);
    expectCheckpointError(() => w.get('visual_proj.weight'), p, /truncated/);
  });

  it('legacy raw-pickle torch files', () => {
    const p = fileWith(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
    expectCheckpointError(() => openCheckpoint(p), p, /legacy/);
  });
});

describe('broken torch zip archives', () => {
  const { pickle, storages } = fixtureRecords();

  it('the re-packed fixture itself loads (control)', () => {
    const p = repack('control.pth', pickle, storages);
    expect(readTorchZip(p).tensors.size).toBe(98);
  });

  it('the newer ".data/version" record is accepted too', () => {
    const p = repack('dotdata.pth', pickle, storages, [{ name: 'arch/.data/version', data: new TextEncoder().encode('3\n') }], {
      version: false,
    });
    expect(readTorchZip(p).version).toBe(3);
  });

  it('a truncated safetensors file (cut inside the data)', () => {
    const src = readFileSync(join(fixtureDir('tiny-bert'), 'text', 'model.safetensors'));
    const p = fileWith(src.subarray(0, src.length - 1000));
    expectCheckpointError(() => openCheckpoint(p), p, /exceed the \d+-byte data area \(truncated\?\)/);
    const p2 = fileWith(src.subarray(0, 100));
    expectCheckpointError(() => openCheckpoint(p2), p2, /truncated/);
  });

  it('a zip without data.pkl', () => {
    const p = repack('nopkl.pth', null, storages);
    expectCheckpointError(() => openCheckpoint(p), p, /without a "<folder>\/data\.pkl"/);
  });

  it('a zip without a version record', () => {
    const p = repack('noversion.pth', pickle, storages, [], { version: false });
    expectCheckpointError(() => openCheckpoint(p), p, /no "version" record/);
  });

  it('a big-endian archive', () => {
    const p = repack('be.pth', pickle, storages, [{ name: 'arch/byteorder', data: new TextEncoder().encode('big') }]);
    expectCheckpointError(() => openCheckpoint(p), p, /byte order is "big"/);
  });

  it('a compressed data.pkl', () => {
    const p = repack('deflated.pth', pickle, storages, [], { deflatePickle: true });
    expectCheckpointError(() => openCheckpoint(p), p, /is compressed \(zip method 8\)/);
  });

  it('a corrupt pickle: truncated, garbage, flipped opcode', () => {
    const p1 = repack('pkl-trunc.pth', pickle.subarray(0, pickle.length >> 1), storages);
    expectCheckpointError(() => openCheckpoint(p1), p1, /data\.pkl: truncated pickle/);
    const p2 = repack('pkl-garbage.pth', Uint8Array.from([0x80, 0x02, 0xfe, 0x00]), storages);
    expectCheckpointError(() => openCheckpoint(p2), p2, /unknown pickle opcode 0xfe/);
    const flipped = pickle.slice();
    flipped[pickle.length - 1] = 0x30; // STOP → POP
    const p3 = repack('pkl-flip.pth', flipped, storages);
    expectCheckpointError(() => openCheckpoint(p3), p3, /data\.pkl/);
  });

  it.each([
    ['torch.storage', '_load_from_bytes'],
    ['builtins', 'eval'],
    ['os', 'system'],
    ['numpy.core.multiarray', '_reconstruct'],
  ])('refuses the global %s.%s and runs nothing', (module, name) => {
    const evil = Uint8Array.from([0x80, 0x02, 0x63, ...latin1(`${module}\n${name}\n`), 0x58, 1, 0, 0, 0, 0x41, 0x85, 0x52, 0x2e]);
    const p = repack(`evil-${name}.pth`, evil, new Map());
    const err = expectCheckpointError(() => openCheckpoint(p), p, /refusing global/);
    expect(err.message).toContain(`"${module}.${name}"`);
  });

  it('a storage record that is missing or too short', () => {
    const without = new Map(storages);
    without.delete('7');
    const p1 = repack('nostorage.pth', pickle, without);
    expectCheckpointError(() => openCheckpoint(p1), p1, /storage "7" is referenced by data\.pkl but "arch\/data\/7" is missing/);
    const short = new Map(storages);
    short.set('0', storages.get('0')!.subarray(0, 10));
    const p2 = repack('shortstorage.pth', pickle, short);
    expectCheckpointError(() => openCheckpoint(p2), p2, /needs \d+ bytes but storage "0" has 10/);
  });

  it('a pickle that is not a state dict of tensors', () => {
    const notTensor = Uint8Array.from([0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x4b, 1, 0x73, 0x2e]); // {'a': 1}
    const p1 = repack('nottensor.pth', notTensor, new Map());
    expectCheckpointError(() => openCheckpoint(p1), p1, /entry "a" is not a tensor/);
    const p2 = repack('list.pth', Uint8Array.from([0x80, 0x02, 0x5d, 0x2e]), new Map());
    expectCheckpointError(() => openCheckpoint(p2), p2, /does not hold a dict/);
  });
});

describe('broken safetensors files', () => {
  function st(header: object | string, dataBytes: number, declaredLength?: number): string {
    const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
    out.set(json, 8);
    return fileWith(out, `st${counter++}.safetensors`);
  }

  it('control: a valid file loads', () => {
    const p = st({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 8);
    expect(openCheckpoint(p).shape('w')).toEqual([2]);
  });

  it.each([
    ['offsets beyond the data', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8, /exceed the 8-byte data area/],
    ['offsets not matching the shape', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, 16, /needs 16 bytes but data_offsets span 8/],
    ['end before begin', { w: { dtype: 'U8', shape: [0], data_offsets: [8, 4] } }, 16, /end before begin/],
    ['negative offset', { w: { dtype: 'U8', shape: [1], data_offsets: [-1, 0] } }, 16, /invalid data_offsets/],
    ['unsupported dtype', { w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 16, /unsupported dtype "F8_E4M3"/],
    ['bad shape', { w: { dtype: 'U8', shape: [1.5], data_offsets: [0, 1] } }, 16, /invalid shape/],
    [
      'overlapping tensors',
      { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } },
      8,
      /overlap/,
    ],
  ])('%s', (_name, header, data, re) => {
    const p = st(header, data);
    expectCheckpointError(() => openCheckpoint(p), p, re);
  });

  it('invalid JSON and a header length past the end', () => {
    const p1 = st('{"w": {', 8);
    expectCheckpointError(() => openCheckpoint(p1), p1, /not valid UTF-8 JSON/);
    const p2 = st({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1, 10_000);
    expectCheckpointError(() => openCheckpoint(p2), p2, /runs past the end .*truncated/);
    expectCheckpointError(() => readSafetensors(p2), p2, /runs past the end/);
  });
});

describe('wrong kind of checkpoint', () => {
  it.each(['pytorch_model.bin', 'model.safetensors'])('a plain text-model %s passed as Visualized weights', (file) => {
    const p = join(fixtureDir('tiny-bert'), 'text', file);
    const err = expectCheckpointError(() => loadVisualizedWeights(p), p, /not a Visualized BGE checkpoint/);
    expect(err.message).toMatch(/text model checkpoint/);
    expect(err.message).toContain('model_visual');
  });

  it('a plain EVA/CLIP checkpoint passed as Visualized weights', () => {
    const p = join(dir, 'eva.pth');
    const t = { dtype: 'float32' as const, shape: [2], data: new Uint8Array(8) };
    writeTorchZip(
      p,
      new Map([
        ['logit_scale', { ...t, shape: [], data: new Uint8Array(4) }],
        ['visual.patch_embed.proj.weight', t],
        ['visual.blocks.0.attn.q_proj.weight', t],
        ['text.token_embedding.weight', t],
      ]),
    );
    const err = expectCheckpointError(() => loadVisualizedWeights(p), p, /not a Visualized BGE checkpoint/);
    expect(err.message).toMatch(/EVA\/CLIP vision checkpoint/);
  });

  it('text weights of another architecture', () => {
    const text = join(fixtureDir('tiny-xlmr'), 'text', 'model.safetensors');
    expectCheckpointError(() => loadVisualizedWeights(BERT, { textWeights: text }), text, /lack|have \d+ tensors|shape/);
    const missing = join(dir, 'no-text');
    expectCheckpointError(() => loadVisualizedWeights(BERT, { textWeights: missing }), missing, /not found/);
  });
});
