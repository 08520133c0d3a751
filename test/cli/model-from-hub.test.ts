/** `--model base|m3` resolves through the Hugging Face cache, pulling from HF_ENDPOINT when allowed. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { runCli } from '../helpers/cli.js';
import { FakeHub, publishedFixtureFiles } from '../helpers/fake-hub.js';
import { FIXTURES, type SingleCase, loadCases } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { TOL, maxAbsDiff } from '../helpers/tolerances.js';

describe('--model through the hub cache', () => {
  let hub: FakeHub;
  let home: string;
  beforeAll(async () => {
    hub = await FakeHub.start(publishedFixtureFiles(FIXTURES));
    home = await mkdtemp(join(tmpdir(), 'vbge-model-'));
  });
  afterAll(async () => hub.close());
  const env = (): NodeJS.ProcessEnv => ({ HF_HOME: home, HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: '', HF_TOKEN: '', HF_HUB_OFFLINE: '' });

  test('vbge embed --model base pulls, then works offline from the cache alone', async () => {
    const c = loadCases('tiny-bert').cases.find((k): k is SingleCase => k.id === 'text-01')!;
    const args = ['embed', '--model', 'base', '--vision-config', fixtureModelFiles('tiny-bert').visionConfig, '--text', c.text!];
    const online = await runCli(args, { env: env() });
    expect(online.code, online.stderr).toBe(0);
    const first = JSON.parse(online.stdout) as { embedding: number[] };
    expect(maxAbsDiff(first.embedding, c.embedding)).toBeLessThanOrEqual(TOL.embedding);
    expect(hub.requests.some((r) => r.path.endsWith('Visualized_base_en_v1.5.pth'))).toBe(true);
    expect(hub.requests.some((r) => /model\.safetensors|pytorch_model\.bin/.test(r.path))).toBe(false);

    const seen = hub.requests.length;
    const offline = await runCli(args, { env: { ...env(), HF_HUB_OFFLINE: '1' } });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toBe(online.stdout);
    expect(hub.requests.length).toBe(seen);
  }, 120_000);

  test('offline without the files: one line naming what is missing and the pull command', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'vbge-empty-'));
    const r = await runCli(['embed', '--model', 'm3', '--text', 'x'], { env: { ...env(), HF_HOME: empty, HF_HUB_OFFLINE: '1' } });
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Visualized_m3\.pth/);
    expect(lines[0]).toMatch(/vbge pull m3/);
  });

  test('the library takes model: "m3" too', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, env());
    try {
      const encoder = await Encoder.load({ model: 'm3', visionConfig: fixtureModelFiles('tiny-xlmr').visionConfig, threads: 1, imageWorkers: 0 });
      const c = loadCases('tiny-xlmr').cases.find((k): k is SingleCase => k.id === 'text-03')!;
      const [v] = await encoder.encode([{ text: c.text! }]);
      expect(maxAbsDiff(v!, c.embedding)).toBeLessThanOrEqual(TOL.embedding);
      await encoder.close();
    } finally {
      process.env = saved;
    }
  });
});
