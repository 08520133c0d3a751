import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, HubOfflineError, PUBLISHED, resolvePublishedModel } from '../../src/hub/index.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { startHubTest, type HubTestContext } from './setup.js';

let t: HubTestContext;
beforeEach(async () => {
  t = await startHubTest();
});
afterEach(async () => {
  await t.cleanup();
});

describe('resolvePublishedModel', () => {
  for (const [model, set] of [
    ['base', 'tiny-bert'],
    ['m3', 'tiny-xlmr'],
  ] as const) {
    it(`pulls only the .pth, config and tokenizer files for ${model}`, async () => {
      const spec = PUBLISHED[model];
      const { weights, textModelDir } = await resolvePublishedModel(model);
      const fixturePth = (await readdir(join(FIXTURES, set))).find((f) => f.endsWith('.pth'))!;
      expect(Buffer.compare(await readFile(weights), await readFile(join(FIXTURES, set, fixturePth)))).toBe(0);
      expect(weights.endsWith(join('snapshots', t.hub.commit(spec.repo), spec.weights))).toBe(true);
      expect(textModelDir).toBe(join(t.cache, `models--${spec.textRepo.replace('/', '--')}`, 'snapshots', t.hub.commit(spec.textRepo)));
      expect((await readdir(textModelDir)).sort()).toEqual([...spec.textFiles].sort());
      for (const f of spec.textFiles) {
        expect(await readlink(join(textModelDir, f))).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
        expect(Buffer.compare(await readFile(join(textModelDir, f)), await readFile(join(FIXTURES, set, 'text', f)))).toBe(0);
      }
      const paths = t.hub.requests.map((r) => r.path);
      expect(paths.some((p) => /model\.safetensors|pytorch_model\.bin/.test(p))).toBe(false);
      const asked = new Set(t.hub.requests.filter((r) => r.server === 'hub').map((r) => r.path.split('/').pop()));
      expect([...asked].sort()).toEqual([spec.weights, ...spec.textFiles].sort());
    });
  }

  it('works offline from the cache without any HTTP request', async () => {
    const online = await resolvePublishedModel('base');
    const count = t.hub.requests.length;
    expect(await resolvePublishedModel('base', { offline: true })).toEqual(online);
    process.env.HF_HUB_OFFLINE = '1';
    expect(await resolvePublishedModel('base')).toEqual(online);
    expect(await resolvePublishedModel('base', { offline: false, allowDownload: false })).toEqual(online);
    expect(t.hub.requests.length).toBe(count);
  });

  it('offline without the files: lists what is missing and names `vbge pull`', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    const err = await resolvePublishedModel('m3').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HubOfflineError);
    const e = err as HubOfflineError;
    expect(e.missing).toEqual([
      'BAAI/bge-visualized/Visualized_m3.pth',
      ...PUBLISHED.m3.textFiles.map((f) => `BAAI/bge-m3/${f}`),
    ]);
    expect(e.message).toContain('BAAI/bge-visualized/Visualized_m3.pth');
    expect(e.message).toContain('`vbge pull m3`');
    expect(e.message).toContain(t.cache);
    expect(t.hub.requests).toHaveLength(0);
  });

  it('offline with part of the files: names only the missing ones', async () => {
    await resolvePublishedModel('base', { offline: false });
    await readFile(join(t.cache, 'models--BAAI--bge-visualized', 'refs', 'main'));
    // the m3 weights share the repo (and its ref) with base, but were never fetched
    const err = await resolvePublishedModel('m3', { offline: true }).catch((x: unknown) => x);
    expect((err as HubOfflineError).missing).toContain('BAAI/bge-visualized/Visualized_m3.pth');
    expect((err as HubOfflineError).missing).not.toContain('BAAI/bge-visualized/Visualized_base_en_v1.5.pth');
  });

  it('offline with a corrupted cached file: says it is corrupt and how to re-fetch', async () => {
    const { textModelDir } = await resolvePublishedModel('base');
    await writeFile(join(textModelDir, 'vocab.txt'), 'damaged');
    const err = await resolvePublishedModel('base', { offline: true }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toMatch(/vocab\.txt is corrupt.*`vbge pull base`/);
    // online, the next pull repairs it
    await resolvePublishedModel('base');
    expect(await readFile(join(textModelDir, 'vocab.txt'), 'utf8')).not.toBe('damaged');
  });
});
