/**
 * Bitwise determinism on the tiny models (issue 4): the same input gives the same bytes alone,
 * beside 7 other inputs of different lengths, with 1 and 2 threads, with batch size 1 and 16,
 * and in two fresh processes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encoder, type EncodeInput } from '../../src/encoder.js';
import { modelArgs, runCli } from '../helpers/cli.js';
import { FIXTURES, type FixtureSet } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const img = (name: string): string => join(FIXTURES, 'images', name);
const bytes = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Probes of each kind, and 7 companions of other kinds and lengths to batch them with. */
const PROBES: EncodeInput[] = [
  { name: 'text', text: 'a photo of a dog running on the beach' },
  { name: 'image', image: img('wiki_candi_1.jpg') },
  { name: 'composed', image: img('cir_query.png'), text: 'make the dog white' },
];
const COMPANIONS: EncodeInput[] = [
  { text: '' },
  { text: 'snow' },
  { text: 'a large group of young people standing in front of an old white house near the river' },
  { image: img('synth_small_50x40.png') },
  { image: img('synth_rgba_320x240.png'), text: 'at night' },
  { image: img('synth_tall_300x500.png'), text: 'a building with many windows and a red door, photographed in the rain' },
  { text: 'une photo d’un chat — 一只猫' },
];

describe.each(['tiny-bert', 'tiny-xlmr'] as FixtureSet[])('%s', (set) => {
  const files = fixtureModelFiles(set);
  let two: Encoder;
  let one: Encoder;
  beforeAll(async () => {
    two = await Encoder.load({ ...files, threads: 2 });
    one = await Encoder.load({ ...files, threads: 1, imageWorkers: 0 });
  });
  afterAll(async () => {
    await two.close();
    await one.close();
  });

  test.each(PROBES.map((p) => [p.name!, p] as const))('%s: alone = in a batch with 7 others of different lengths', async (_name, probe) => {
    const [alone] = await two.encode([probe], { batchSize: 1 });
    for (let position = 0; position < 8; position += 3) {
      const batch = [...COMPANIONS];
      batch.splice(position, 0, probe);
      const got = await two.encode(batch, { batchSize: 8 });
      expect(bytes(got[position]!).equals(bytes(alone!)), `at position ${position}`).toBe(true);
    }
  });

  test('1 thread = 2 threads, batch size 1 = batch size 16, repeated calls equal', async () => {
    const all = [...PROBES, ...COMPANIONS];
    const reference = await two.encode(all, { batchSize: 16 });
    const variants = [
      await one.encode(all, { batchSize: 16 }),
      await two.encode(all, { batchSize: 1 }),
      await one.encode(all, { batchSize: 1 }),
      await two.encode(all, { batchSize: 16 }),
    ];
    for (const v of variants) all.forEach((_, i) => expect(bytes(v[i]!).equals(bytes(reference[i]!)), `input ${i}`).toBe(true));
  });
});

describe('vbge embed on a mixed JSONL of 36 inputs', () => {
  const files = fixtureModelFiles('tiny-bert');
  const tmp = mkdtempSync(join(tmpdir(), 'vbge-det-'));
  const input = join(tmp, 'mixed.jsonl');
  const images = ['cir_query.png', 'wiki_candi_1.jpg', 'synth_small_50x40.png', 'synth_rgba_320x240.png', 'synth_palette_400x300.png', 'synth_grey_256x300.png'];
  const texts = ['', 'a dog', 'make the background dark', 'a large group of young people standing in front of an old white house', 'Café naïve résumé', '一只猫坐在桌子上'];
  const lines: object[] = [];
  for (let i = 0; i < 36; i++) {
    const kind = i % 3;
    const text = texts[(i * 7) % texts.length]!;
    const image = img(images[(i * 5) % images.length]!);
    lines.push(kind === 0 ? { id: i, text } : kind === 1 ? { id: i, image } : { id: i, image, text });
  }
  writeFileSync(input, lines.map((l) => JSON.stringify(l)).join('\n'));
  const run = async (extra: string[]): Promise<string> => {
    const out = join(tmp, `out-${extra.join('_')}.jsonl`);
    const r = await runCli(['embed', ...modelArgs(files), '--input', input, '--output', out, ...extra]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return readFileSync(out, 'utf8');
  };

  test('identical output for --threads 1/2, --batch-size 1/16, and two fresh processes', async () => {
    const reference = await run(['--threads', '2', '--batch-size', '16']);
    expect(reference.trim().split('\n')).toHaveLength(36);
    expect(await run(['--threads', '1', '--batch-size', '16'])).toBe(reference);
    expect(await run(['--threads', '2', '--batch-size', '1'])).toBe(reference);
    expect(await run(['--threads', '1', '--batch-size', '1'])).toBe(reference);
    expect(await run(['--threads', '2', '--batch-size', '16'])).toBe(reference); // a second fresh process
  }, 120_000);
});

describe('vbge verify', () => {
  test('passes here and prints the same fingerprint in two runs', async () => {
    const files = fixtureModelFiles('tiny-xlmr');
    const a = await runCli(['verify', ...modelArgs(files), '--json']);
    const b = await runCli(['verify', ...modelArgs(files), '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout) as { ok: boolean; checks: { ok: boolean }[]; fingerprint: Record<string, unknown> };
    const rb = JSON.parse(b.stdout) as typeof ra;
    expect(ra.ok).toBe(true);
    expect(ra.checks.length).toBeGreaterThanOrEqual(4);
    expect(ra.fingerprint).toEqual(rb.fingerprint);
    expect(ra.fingerprint['canarySha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(ra.fingerprint['checkpointSha256']).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});

describe('many inputs in one call', () => {
  test('results across processing windows equal one-by-one results, and a bad input anywhere costs nothing', async () => {
    const encoder = await Encoder.load({ ...fixtureModelFiles('tiny-bert'), threads: 2 });
    try {
      const inputs: EncodeInput[] = Array.from({ length: 150 }, (_, i) =>
        i === 97 ? { image: img('does-not-exist.png') } : i % 4 === 0 ? { image: img(['cir_query.png', 'synth_small_50x40.png'][i % 8 ? 1 : 0]!) } : { text: `item ${i} ${'word '.repeat(i % 11)}` },
      );
      const all = await encoder.encodeSettled(inputs, { batchSize: 16 });
      expect(all.filter((r) => !r.ok)).toHaveLength(1);
      expect(all[97]!.ok).toBe(false);
      for (const i of [0, 1, 63, 64, 65, 96, 98, 128, 149]) {
        const [alone] = await encoder.encode([inputs[i]!], { batchSize: 1 });
        const r = all[i]!;
        expect(r.ok && bytes(r.embedding).equals(bytes(alone!)), `input ${i}`).toBe(true);
      }
    } finally {
      await encoder.close();
    }
  });
});
