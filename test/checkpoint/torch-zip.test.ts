import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCases, fixtureDir } from '../helpers/fixtures.js';
import { openCheckpoint, readTorchZip, sha256File, TorchZipTensor } from '../../src/checkpoint/index.js';
import { expectedVisualizedLayout, roundToFloat16, TINY_BERT, TINY_XLMR } from './expected-keys.js';

const PTH = {
  bert: join(fixtureDir('tiny-bert'), 'Visualized_tiny-bert.pth'),
  xlmr: join(fixtureDir('tiny-xlmr'), 'Visualized_tiny-xlmr.pth'),
  fp16: join(fixtureDir('tiny-bert-fp16'), 'Visualized_tiny-bert-fp16.pth'),
};

interface CheckpointFacts {
  sha256: string;
  entries: number;
  stored_storages: number;
  float16_subnormal_values: number;
  float16_subnormals_by_key: Record<string, number>;
  float16_zero_values: number;
  shared_storage_groups: string[][];
}
const FACTS = loadCases('tiny-bert-fp16').checkpoint_facts as CheckpointFacts;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describe('torch.save zip fixtures', () => {
  it.each([
    ['tiny-bert', PTH.bert, TINY_BERT, 'float32'],
    ['tiny-bert-fp16', PTH.fp16, TINY_BERT, 'float16'],
    ['tiny-xlmr', PTH.xlmr, TINY_XLMR, 'float32'],
  ] as const)('%s: key order, shapes and dtypes match the README layout', (_name, path, dims, dtype) => {
    const c = readTorchZip(path);
    const expected = expectedVisualizedLayout(dims);
    expect([...c.tensors.keys()]).toEqual(expected.map(([k]) => k));
    for (const [key, shape] of expected) {
      const t = c.tensors.get(key)!;
      expect(t.shape, key).toEqual(shape);
      expect(t.dtype, key).toBe(dtype);
      expect(t.read().length, key).toBe(shape.reduce((a, b) => a * b, 1) * (dtype === 'float16' ? 2 : 4));
    }
    expect(c.version).toBe(3);
  });

  it('tiny-bert has 98 keys, tiny-xlmr 114; fp16 has 94 distinct storages', () => {
    expect(readTorchZip(PTH.bert).tensors.size).toBe(98);
    expect(readTorchZip(PTH.xlmr).tensors.size).toBe(114);
    const c = readTorchZip(PTH.fp16);
    expect(c.tensors.size).toBe(FACTS.entries);
    expect(c.storageCount).toBe(FACTS.stored_storages);
    expect(new Set([...c.tensors.values()].map((t) => t.storageKey)).size).toBe(94);
    expect(c.prefix).toBe('Visualized_tiny-bert-fp16');
  });

  it('the archive prefix is taken from data.pkl, whatever it is', () => {
    expect(readTorchZip(PTH.bert).prefix).toBe('Visualized_tiny-bert');
    expect(readTorchZip(join(fixtureDir('tiny-bert'), 'text', 'pytorch_model.bin')).prefix).toBe('pytorch_model');
  });

  it('shared-storage RoPE keys point to one storage and return identical bytes', () => {
    for (const path of [PTH.bert, PTH.fp16, PTH.xlmr]) {
      const c = readTorchZip(path);
      for (const group of FACTS.shared_storage_groups) {
        const tensors = group.map((k) => c.tensors.get(k)!);
        const first = tensors[0]!;
        const bytes = first.read();
        for (const t of tensors.slice(1)) {
          expect(t.storageKey).toBe(first.storageKey);
          expect(sameBytes(t.read(), bytes)).toBe(true);
        }
      }
    }
    // and tensors that are not shared have their own storages
    const c = readTorchZip(PTH.fp16);
    expect(c.tensors.get('visual_proj.weight')!.storageKey).not.toBe(c.tensors.get('visual_proj.bias')!.storageKey);
  });

  it('fp16 values, widened, equal the fp32 values rounded to nearest-even float16', () => {
    const w32 = openCheckpoint(PTH.bert);
    const w16 = openCheckpoint(PTH.fp16);
    expect(w16.allKeys()).toEqual(w32.allKeys());
    let compared = 0;
    let roundedAway = 0;
    for (const key of w32.allKeys()) {
      const a = w32.get(key).data;
      const b = w16.get(key).data;
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        const want = roundToFloat16(a[i]!);
        if (!Object.is(b[i], Math.fround(want))) throw new Error(`${key}[${i}]: ${b[i]} != round(${a[i]}) = ${want}`);
        if (a[i] !== b[i]) roundedAway++;
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100_000);
    expect(roundedAway).toBeGreaterThan(compared / 2); // the fp16 file really is rounded
  });

  it('fp16 subnormals are stored and widened exactly (61 values, per key as in cases.json)', () => {
    const c = readTorchZip(PTH.fp16);
    let subnormals = 0;
    let zeros = 0;
    const byKey: Record<string, number> = {};
    const w = openCheckpoint(PTH.fp16);
    const counted = new Set<string>();
    for (const [key, t] of c.tensors) {
      // shared storages count once, as in cases.json
      if (counted.has(t.storageKey)) continue;
      counted.add(t.storageKey);
      const bytes = t.read();
      const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
      const widened = w.get(key).data;
      for (let i = 0; i < bits.length; i++) {
        const h = bits[i]!;
        if ((h & 0x7c00) === 0 && (h & 0x3ff) !== 0) {
          subnormals++;
          byKey[key] = (byKey[key] ?? 0) + 1;
          expect(widened[i]).toBe((h & 0x8000 ? -1 : 1) * (h & 0x3ff) * 2 ** -24);
          expect(widened[i]).not.toBe(0);
        }
        if ((h & 0x7fff) === 0) zeros++;
      }
    }
    expect(subnormals).toBe(FACTS.float16_subnormal_values);
    expect(subnormals).toBe(61);
    expect(byKey).toEqual(FACTS.float16_subnormals_by_key);
    expect(zeros).toBe(FACTS.float16_zero_values);
  });

  it('0-dim logit_scale reads as one element', () => {
    const t = readTorchZip(PTH.fp16).tensors.get('model_visual.logit_scale')!;
    expect(t.shape).toEqual([]);
    expect(t.read().length).toBe(2);
    expect(t).toBeInstanceOf(TorchZipTensor);
  });

  it('sha256File streams the file hash (README value)', async () => {
    expect(await sha256File(PTH.fp16)).toBe(FACTS.sha256);
  });
});
