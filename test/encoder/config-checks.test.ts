/** A configuration that does not describe the checkpoint is an error, never a silently different model. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { CheckpointError, ConfigError } from '../../src/errors.js';
import { provenanceId } from '../../src/runtime/provenance.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const files = fixtureModelFiles('tiny-bert');
const tmp = mkdtempSync(join(tmpdir(), 'vbge-cfg-'));

function visionConfigWith(patch: Record<string, unknown>): string {
  const json = JSON.parse(readFileSync(files.visionConfig, 'utf8')) as { vision_cfg: Record<string, unknown> };
  Object.assign(json.vision_cfg, patch);
  const path = join(tmp, `vision-${Object.keys(patch).join('-')}-${Object.values(patch).join('-')}.json`);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

function textModelWith(patch: Record<string, unknown>): string {
  const dir = join(tmp, `text-${Object.entries(patch).flat().join('-')}`);
  cpSync(files.textModel, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...patch }));
  return dir;
}

const load = (o: Partial<Parameters<typeof Encoder.load>[0]>) => Encoder.load({ ...files, threads: 1, imageWorkers: 0, graphCache: false, ...o });

describe('model configuration checks', () => {
  test.each([
    [{ layers: 1 }, CheckpointError, /2 vision blocks but the vision config says 1/],
    [{ layers: 0 }, ConfigError, /layers must be a positive/],
    [{ layers: 1.5 }, ConfigError, /layers must be a positive integer/],
    [{ patch_size: 0 }, ConfigError, /patch_size must be a positive/],
    [{ patch_size: 15 }, ConfigError, /not a multiple of patch_size/],
  ] as const)('vision config %o is refused', async (patch, type, message) => {
    const err = await load({ visionConfig: visionConfigWith(patch) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
  });

  test('a text config.json with another layer count is refused', async () => {
    const err = await load({ textModel: textModelWith({ num_hidden_layers: 1 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/2 text layers but the text model's config.json says 1/);
  });

  test('the provenance record changes with the text config (here its LayerNorm eps)', async () => {
    const a = await load({});
    const b = await load({ textModel: textModelWith({ layer_norm_eps: 1e-3 }) });
    try {
      const [pa, pb] = [await a.provenance(), await b.provenance()];
      expect(pa.modelConfigSha256).not.toBe(pb.modelConfigSha256);
      expect(provenanceId(pa)).not.toBe(provenanceId(pb));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test.each([
    [{ threads: 0 }, /threads must be an integer ≥ 1/],
    [{ threads: 100_000 }, /threads is 100000, the limit is 256/],
    [{ imageWorkers: 1.5 }, /imageWorkers must be an integer/],
    [{ imageWorkers: -3 }, /imageWorkers must be an integer ≥ 0/],
    [{ batchSize: 0 }, /batchSize must be an integer ≥ 1/],
  ] as const)('load option %o is refused before anything is loaded', async (o, message) => {
    await expect(load(o)).rejects.toThrow(message);
  });
});
