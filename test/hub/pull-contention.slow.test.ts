import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RepoCache } from '../../src/hub/cache.js';
import { startHubTest, type HubTestContext } from './setup.js';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('./pull-entry.ts', import.meta.url));
const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPO = 'BAAI/bge-visualized';
const PTH = 'Visualized_m3.pth';

let t: HubTestContext;
beforeEach(async () => {
  t = await startHubTest();
});
afterEach(async () => {
  await t.cleanup();
});

/** `n` real `vbge pull` processes started at once on one file; each one's printed path. */
async function pullAtOnce(n: number): Promise<string[]> {
  const env = { ...process.env, HF_HOME: t.home, HF_ENDPOINT: t.hub.endpoint };
  const runs = await Promise.all(
    Array.from({ length: n }, () => run(process.execPath, ['--import', 'tsx', ENTRY, 'pull', REPO, PTH], { cwd: ROOT, env })),
  );
  return runs.map((r) => r.stdout.trim());
}

async function expectOneCorrectDownload(paths: string[]): Promise<void> {
  const want = t.hub.entry(REPO, PTH).content;
  expect(new Set(paths).size).toBe(1);
  expect(Buffer.compare(await readFile(paths[0]!), want)).toBe(0);
  expect(t.hub.contentRequests().filter((r) => r.server === 'cdn')).toHaveLength(1);
}

describe('vbge pull in several processes at once', () => {
  for (const n of [2, 3]) {
    it(`${n} processes: one download, one correct file, every process succeeds`, async () => {
      await expectOneCorrectDownload(await pullAtOnce(n));
    });
  }

  it('3 processes after a holder was SIGKILLed with the lock: one download, no error', async () => {
    const lock = new RepoCache(t.cache, REPO).lockPath(t.hub.entry(REPO, PTH).sha256);
    const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, lock], { cwd: ROOT });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      holder.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    await expectOneCorrectDownload(await pullAtOnce(3));
  });
});
