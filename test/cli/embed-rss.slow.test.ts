/** `vbge embed` reading a 200 MB JSONL line in bounded memory: slow (writes and reads 200 MB), so in the slow group. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { modelArgs } from '../helpers/cli.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = ['--import', 'tsx', resolve(ROOT, 'src/cli/run.ts')];
const model = modelArgs(fixtureModelFiles('tiny-bert'));
const tmp = mkdtempSync(join(tmpdir(), 'vbge-cli-rss-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs the CLI and samples the child's peak resident set (VmHWM, a high-water mark kept by the
 * kernel) from /proc until it exits, so no external `time` tool is needed.
 */
function runWithPeakRss(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string; peakKb: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const sample = (): void => {
      try {
        const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
      } catch {
        // the process has just exited
      }
    };
    const timer = setInterval(sample, 10);
    child.on('error', reject);
    child.on('exit', () => sample());
    child.on('close', (status) => {
      clearInterval(timer);
      resolvePromise({ status, stdout, stderr, peakKb });
    });
  });
}

function outputIds(stdout: string): (string | number)[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { id: string | number }).id);
}

describe('JSONL input that is not what it should be', () => {
  test('a 200 MB line does not grow the process (max RSS within 128 MB of a run without it)', async () => {
    const good = `{"id":1,"text":"a"}\n{"id":3,"text":"b"}\n`;
    const small = join(tmp, 'rss-small.jsonl');
    writeFileSync(small, good);
    const big = join(tmp, 'rss-big.jsonl');
    writeFileSync(big, Buffer.concat([Buffer.from(`{"id":2,"text":"`), Buffer.alloc(200 * 1024 * 1024, 0x78), Buffer.from(`"}\n${good}`)]));
    const maxRssKb = async (input: string): Promise<number> => {
      const r = await runWithPeakRss(['embed', ...model, '--input', input]);
      expect(r.status, r.stderr).toBe(input === big ? 1 : 0);
      expect(outputIds(r.stdout)).toEqual([1, 3]);
      expect(r.peakKb).toBeGreaterThan(0);
      return r.peakKb;
    };
    const grown = (await maxRssKb(big)) - (await maxRssKb(small));
    expect(grown / 1024).toBeLessThan(128);
  }, 600_000);

});
