/**
 * When images are preprocessed: each vision batch's images are read and decoded just before that
 * batch runs, after the previous batch's inference, never during it (decoding on the cores the
 * ONNX Runtime threads use stalls them; see encoder.ts). Observable from outside: a file that
 * appears while the first batch runs is found by the second.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { fixturePath } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const SET = 'tiny-bert';
const IMAGE = fixturePath(SET, '../images/synth_baseline_q90.jpg');
let dir: string;
let encoder: Encoder;
const stages: string[] = [];
let late: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vbge-preprocess-timing-'));
  late = join(dir, 'appears-during-the-first-batch.jpg');
  encoder = await Encoder.load({
    ...fixtureModelFiles(SET),
    threads: 1,
    graphCache: false,
    onStage: (stage) => {
      stages.push(stage);
      // The first batch's vision graph has run: only now does the second batch's image exist.
      if (stages.filter((s) => s === 'vision').length === 1) copyFileSync(IMAGE, late);
    },
  });
});

afterAll(async () => {
  await encoder.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a batch's images are read after the previous batch has run, not when the call starts", async () => {
  const results = await encoder.encodeSettled([{ image: IMAGE }, { image: late }], { batchSize: 1 });
  expect(results.map((r) => r.ok)).toEqual([true, true]);
  const [a, b] = results.map((r) => (r.ok ? r.embedding : new Float32Array()));
  expect(Buffer.from(b!.buffer).equals(Buffer.from(a!.buffer))).toBe(true);
  expect(stages.slice(0, 2)).toEqual(['vision', 'vision']);
});
