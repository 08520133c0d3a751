import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { modelArgs } from '../helpers/cli.js';
import { MODEL_FILES, type TestPostgres, countRecords, expectSameRecords, readAllRecords, spawnCli, startPostgres, tempDir, writeManifest } from './helpers.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres.close();
});

const MODEL = modelArgs(MODEL_FILES);
/** Several processes each load the model, on a shared 2-core host. */
const TIMEOUT = 600_000;
const TEXTS = 400;
const TOTAL = TEXTS + 16;

const STORES = [
  ['LanceDB', (name: string) => ['--index', join(tempDir('crash'), name)]],
  ['Postgres', (name: string) => ['--store', postgres.url(`crash_${name}_${Math.random().toString(36).slice(2, 8)}`)]],
] as const;

describe.each(STORES)('a SIGKILLed vbge index on %s', (_name, where) => {
  test('loses at most the batch in flight: the rerun completes it, equal to an uninterrupted run, nothing embedded twice', async () => {
    const manifest = writeManifest(tempDir('crash-data'), TEXTS);
    const reference = where('reference');
    const interrupted = where('interrupted');
    const args = (loc: readonly string[]) => ['index', manifest, ...loc, ...MODEL, '--commit-size', '4', '--quiet'];

    const whole = await spawnCli(args(reference)).done;
    expect(whole.code, whole.stderr).toBe(0);

    const run = spawnCli(args(interrupted));
    let seen = 0;
    while ((seen = await countRecords(interrupted[1]!)) < 40) {
      if (run.child.exitCode !== null) throw new Error(`the run ended before it could be killed: ${(await run.done).stderr}`);
      await sleep(20);
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await countRecords(interrupted[1]!);
    expect(atKill).toBeGreaterThanOrEqual(seen);
    expect(atKill).toBeLessThan(TOTAL); // it really was mid-run

    const rerun = await spawnCli(args(interrupted)).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const m = /(\d+) new, 0 changed, 0 metadata updated, (\d+) unchanged/.exec(rerun.stderr)!;
    expect(Number(m[1]) + Number(m[2])).toBe(TOTAL);
    expect(Number(m[2])).toBe(atKill); // what was stored before the kill is not embedded again

    expectSameRecords(await readAllRecords(interrupted[1]!), await readAllRecords(reference[1]!));
  }, TIMEOUT);
});

describe('vbge index --shard on Postgres', () => {
  test('three shard processes at once fill one index with exactly what one unsharded run writes', async () => {
    const manifest = writeManifest(tempDir('shard-data'), 60);
    const single = postgres.url('shard_single');
    const sharded = postgres.url('shard_union');
    const one = await spawnCli(['index', manifest, '--store', single, ...MODEL, '--quiet']).done;
    expect(one.code, one.stderr).toBe(0);
    const shards = await Promise.all([1, 2, 3].map((i) => spawnCli(['index', manifest, '--store', sharded, ...MODEL, '--shard', `${i}/3`, '--commit-size', '8', '--quiet']).done));
    let embedded = 0;
    for (const s of shards) {
      expect(s.code, s.stderr).toBe(0);
      const m = /(\d+) new, .* (\d+) left to other shards/.exec(s.stderr)!;
      expect(Number(m[1])).toBeGreaterThan(0); // every shard did a share
      expect(Number(m[1]) + Number(m[2])).toBe(76);
      embedded += Number(m[1]);
    }
    expect(embedded).toBe(76); // no item embedded by two shards
    expectSameRecords(await readAllRecords(sharded), await readAllRecords(single));
  }, TIMEOUT);
});
