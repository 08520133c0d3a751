import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPull, type PullIo } from '../../src/cli/pull.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { startHubTest, type HubTestContext } from './setup.js';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('./pull-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let t: HubTestContext;
beforeEach(async () => {
  t = await startHubTest();
});
afterEach(async () => {
  await t.cleanup();
});

function captureIo(tty: boolean): PullIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stderr.isTTY = tty;
  stderr.columns = 120;
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout: { write: (s: string) => (out += s) }, stderr, out: () => out, err: () => err };
}

async function vbge(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('vbge pull', () => {
  it('pulls a published model: paths on stdout, one line per file on a non-terminal stderr', async () => {
    const io = captureIo(false);
    expect(await runPull('base', [], {}, io)).toBe(0);
    const [weights, textDir] = io.out().trim().split('\n');
    expect(Buffer.compare(await readFile(weights!), await readFile(join(FIXTURES, 'tiny-bert', 'Visualized_tiny-bert.pth')))).toBe(0);
    expect(await readFile(join(textDir!, 'vocab.txt'), 'utf8')).toBe(await readFile(join(FIXTURES, 'tiny-bert/text/vocab.txt'), 'utf8'));
    const lines = io.err().trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('vbge pull: BAAI/bge-visualized/Visualized_base_en_v1.5.pth 465.8 kB downloaded');
    const again = captureIo(false);
    expect(await runPull('base', [], {}, again)).toBe(0);
    expect(again.err()).toMatch(/Visualized_base_en_v1\.5\.pth 465\.8 kB already cached/);
  });

  it('draws progress bars on a terminal', async () => {
    const io = captureIo(true);
    expect(await runPull('BAAI/bge-visualized', ['Visualized_m3.pth'], {}, io)).toBe(0);
    expect(io.err()).toContain('BAAI/bge-visualized/Visualized_m3.pth');
    expect(io.err()).toContain('100%');
    expect(io.err()).toContain('863.4 kB/863.4 kB');
  });

  it('pulls named files of any repository', async () => {
    const io = captureIo(false);
    expect(await runPull('BAAI/bge-m3', ['config.json', 'tokenizer.json'], { cacheDir: join(t.home, 'elsewhere') }, io)).toBe(0);
    const paths = io.out().trim().split('\n');
    expect(paths).toHaveLength(2);
    expect(paths.every((p) => p.startsWith(join(t.home, 'elsewhere', 'models--BAAI--bge-m3', 'snapshots')))).toBe(true);
  });

  it('fails with one clear line for unknown models, missing files and refusals', async () => {
    for (const [target, files, pattern] of [
      ['large', [], /^vbge pull: unknown model "large": expected base or m3/],
      ['BAAI/bge-m3', [], /^vbge pull: name the files to pull from BAAI\/bge-m3/],
      ['BAAI/bge-m3', ['nope.bin'], /^vbge pull: BAAI\/bge-m3\/nope\.bin: no such file/],
    ] as const) {
      const io = captureIo(false);
      expect(await runPull(target, files, {}, io)).toBe(1);
      expect(io.err()).toMatch(pattern);
      expect(io.err().trim().split('\n')).toHaveLength(1);
    }
  });

  it('runs as a process: exit 0 on success, non-zero with one stderr line when offline and uncached', async () => {
    const ok = await vbge(['pull', 'm3'], { HF_HOME: t.home, HF_ENDPOINT: t.hub.endpoint });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(2);
    expect(ok.stderr).toContain('Visualized_m3.pth');

    const offlineHit = await vbge(['pull', 'm3'], { HF_HOME: t.home, HF_HUB_OFFLINE: '1' });
    expect(offlineHit.code).toBe(0);
    expect(offlineHit.stdout).toBe(ok.stdout);

    const miss = await vbge(['pull', 'base'], { HF_HOME: t.home, HF_HUB_OFFLINE: '1' });
    expect(miss.code).not.toBe(0);
    expect(miss.stderr.trim().split('\n')).toHaveLength(1);
    expect(miss.stderr).toMatch(/Visualized_base_en_v1\.5\.pth.*`vbge pull base`/);
  });
});
