/** Six processes starting on one cold graph cache at once: heavy (six conversions, twelve check processes), so in the slow group. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { modelArgs, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const files = fixtureModelFiles('tiny-xlmr');

describe('graph cache', () => {
  test('six processes on a cold cache at once all succeed with identical output', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-race-'));
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => runCli(['embed', ...modelArgs(files), '--text', 'a cat', '--image', join(FIXTURES, 'images', 'cir_query.png')], { env: { VBGE_CACHE_DIR: cache }, timeoutMs: 600_000 })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    const again = await runCli(['embed', ...modelArgs(files), '--text', 'a cat', '--image', join(FIXTURES, 'images', 'cir_query.png')], { env: { VBGE_CACHE_DIR: cache }, timeoutMs: 600_000 });
    expect(again.stdout).toBe(runs[0]!.stdout);
  }, 900_000);

});
