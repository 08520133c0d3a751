/**
 * `vbge embed` against hostile input and surroundings: huge JSONL lines, odd ids, paths that are
 * not there, a reader that goes away, bad options. Each fails alone, in one line, with the
 * documented exit code (0 all done, 1 some inputs failed, 2 the command could not run).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { describeError } from '../../src/cli/main.js';
import { ConfigError } from '../../src/errors.js';
import { LIMITS } from '../../src/limits.js';
import { type CliResult, modelArgs, runCli } from '../helpers/cli.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = ['--import', 'tsx', resolve(ROOT, 'src/cli/run.ts')];
const files = fixtureModelFiles('tiny-bert');
const model = modelArgs(files);
const tmp = mkdtempSync(join(tmpdir(), 'vbge-cli-robust-'));
/** A port nothing listens on: any attempt to reach the hub fails with "cannot reach", not with our message. */
const NO_HUB = { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '', HF_HOME: join(tmp, 'hf-home'), HF_HUB_CACHE: '' };

function outputIds(stdout: string): (string | number)[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { id: string | number }).id);
}

function stderrLines(r: CliResult): string[] {
  return r.stderr.trim().split('\n').filter(Boolean);
}

/** No "    at file:line" frames: the user sees messages, not our insides. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('JSONL input that is not what it should be', () => {
  test('a 3 MB line between two good ones: both good lines written, one error line naming the limit, exit 1', async () => {
    const input = join(tmp, 'long-line.jsonl');
    writeFileSync(input, [`{"id":"a","text":"a dog"}`, `{"id":"big","text":"${'x'.repeat(3 * 1024 * 1024)}"}`, `{"id":"b","text":"a cat"}`].join('\n'));
    const r = await runCli(['embed', ...model, '--input', input]);
    expect(r.code).toBe(1);
    expect(outputIds(r.stdout)).toEqual(['a', 'b']);
    expect(stderrLines(r)).toEqual([`vbge embed: line 2, id 2: line is ${Buffer.byteLength(`{"id":"big","text":""}`) + 3 * 1024 * 1024} bytes, the limit is ${LIMITS.maxJsonlLineBytes}`]);
  });

  test('a BOM-prefixed CRLF file is read like a plain one', async () => {
    const input = join(tmp, 'bom.jsonl');
    writeFileSync(input, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"id":"first","text":"a dog"}\r\n{"id":"second","text":"a cat"}\r\n')]));
    const r = await runCli(['embed', ...model, '--input', input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(outputIds(r.stdout)).toEqual(['first', 'second']);
    // The same texts without the BOM give the same bytes.
    const plain = await runCli(['embed', ...model, '--input', '-'], { stdin: '{"id":"first","text":"a dog"}\n{"id":"second","text":"a cat"}\n' });
    expect(r.stdout).toBe(plain.stdout);
  });

  test('a numeric id that JSON would round is refused for its line only', async () => {
    const r = await runCli(['embed', ...model, '--input', '-'], {
      stdin: ['{"id":1,"text":"a"}', '{"id":12345678901234567890,"text":"b"}', '{"id":1e400,"text":"c"}', '{"id":"12345678901234567890","text":"d"}'].join('\n'),
    });
    expect(r.code).toBe(1);
    expect(outputIds(r.stdout)).toEqual([1, '12345678901234567890']);
    const errors = stderrLines(r);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^vbge embed: line 2, .*numeric id must be a safe integer; quote it as a string$/);
    expect(errors[1]).toMatch(/^vbge embed: line 3, .*numeric id must be a safe integer; quote it as a string$/);
  });
});

describe('paths checked before the model loads', () => {
  test('--output in a missing folder: one line naming it, exit 2, before any model load', async () => {
    const out = join(tmp, 'no-such-folder', 'out.jsonl');
    // A checkpoint that does not exist: had the model been loaded first, its error would show instead.
    const r = await runCli(['embed', '--weights', join(tmp, 'absent.pth'), '--text-model', files.textModel, '--text', 'x', '--output', out]);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([`vbge: --output ${out}: no such folder ${dirname(out)}`]);
    expect(r.stdout).toBe('');
  });

  test('--format npy --output into a folder: one line, exit 2', async () => {
    const r = await runCli(['embed', '--weights', join(tmp, 'absent.pth'), '--text-model', files.textModel, '--text', 'x', '--format', 'npy', '--output', tmp]);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([`vbge: --output ${tmp}: is a folder; name a file`]);
  });

  test('a model that fails to load leaves no empty --output file behind', async () => {
    const out = join(tmp, 'never-written.jsonl');
    const r = await runCli(['embed', '--weights', join(tmp, 'absent.pth'), '--text-model', files.textModel, '--text', 'x', '--output', out]);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toHaveLength(1);
    expect(stderrLines(r)[0]).toMatch(/absent\.pth/);
    expect(existsSync(out)).toBe(false);
  });

  test('--input that does not exist, or is a folder: one line naming it, exit 2', async () => {
    const missing = join(tmp, 'missing.jsonl');
    const a = await runCli(['embed', '--weights', join(tmp, 'absent.pth'), '--text-model', files.textModel, '--input', missing]);
    expect(a.code).toBe(2);
    expect(stderrLines(a)).toEqual([`vbge: --input ${missing}: no such file`]);
    const b = await runCli(['embed', ...model, '--input', tmp]);
    expect(b.code).toBe(2);
    expect(stderrLines(b)).toEqual([`vbge: --input ${tmp}: is a folder, not a JSONL file`]);
  });

  test('a write error part way (a full disk) is one line and exit 2', async () => {
    const r = await runCli(['embed', ...model, '--text', 'x', '--output', '/dev/full']);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual(['vbge: /dev/full: write failed (ENOSPC)']);
  });
});

describe('a reader that goes away', () => {
  test('stdout closed after the first chunk (`| head`): the run stops quietly, no stack trace', async () => {
    const input = join(tmp, 'many.jsonl');
    writeFileSync(input, Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, text: `dog number ${i}` })).join('\n'));
    const { code, stderr, received } = await new Promise<{ code: number | null; stderr: string; received: number }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [...CLI, 'embed', ...model, '--input', input], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let received = 0;
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.once('data', (d: Buffer) => {
        received = d.length;
        child.stdout.destroy();
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`timed out; stderr: ${stderr}`));
      }, 60_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolvePromise({ code: c, stderr, received });
      });
    });
    expect(received).toBeGreaterThan(0);
    expect(stderr).toBe('');
    expectNoStack(stderr);
    expect(code).toBe(0);
  });
});

describe('usage errors', () => {
  test('an unknown option or a missing option value exits 2 (1 is "some inputs failed"); help and version exit 0', async () => {
    const unknown = await runCli(['embed', ...model, '--text', 'x', '--no-such-option']);
    expect(unknown.code).toBe(2);
    expect(stderrLines(unknown)).toEqual([`error: unknown option '--no-such-option'`]);
    const missing = await runCli(['embed', ...model, '--text']);
    expect(missing.code).toBe(2);
    expect(stderrLines(missing)).toHaveLength(1);
    const noCommand = await runCli([]);
    expect(noCommand.code).toBe(2);
    const help = await runCli(['embed', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--text-model/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test(`--threads over ${LIMITS.maxThreads}: one line naming the limit, exit 2, before any model load`, async () => {
    const r = await runCli(['embed', '--weights', join(tmp, 'absent.pth'), '--text-model', files.textModel, '--text', 'x', '--threads', '100000']);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([`vbge: --threads is 100000, the limit is ${LIMITS.maxThreads}`]);
    const ok = await runCli(['embed', ...model, '--text', 'x', '--threads', String(LIMITS.maxThreads)]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('--text-model', () => {
  test('a path-like value that is not there is named as a missing folder, never sent to the hub', async () => {
    for (const value of ['./does-not-exist', join(tmp, 'nope'), '~/vbge-surely-not-there']) {
      const r = await runCli(['embed', '--weights', files.weights, '--text-model', value, '--vision-config', files.visionConfig, '--text', 'x'], { env: NO_HUB });
      expect(r.code, value).toBe(2);
      expect(stderrLines(r), value).toEqual([`vbge: ${value}: no such folder (the text model folder with config.json and tokenizer files)`]);
      expect(r.stderr).not.toMatch(/127\.0\.0\.1|cannot reach/);
    }
  });

  test('a file given as the folder is refused as such', async () => {
    const r = await runCli(['embed', '--weights', files.weights, '--text-model', files.weights, '--text', 'x'], { env: NO_HUB });
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([`vbge: ${files.weights}: is a file, not a folder (the text model folder with config.json and tokenizer files)`]);
  });

  test('an org/name that is not a local folder is fetched; when that fails, the error names both', async () => {
    const r = await runCli(['embed', '--weights', files.weights, '--text-model', 'no-org/no-model', '--text', 'x'], { env: NO_HUB });
    expect(r.code).toBe(2);
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no such folder no-org\/no-model/);
    expect(lines[0]).toMatch(/127\.0\.0\.1:9/);
  });

  test('with --model, an explicit --text-model repo id is fetched too (not used as a path)', async () => {
    const r = await runCli(['embed', '--model', 'base', '--text-model', 'no-org/no-model', '--text', 'x'], { env: NO_HUB });
    expect(r.code).toBe(2);
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--text-model no-org\/no-model: no such folder no-org\/no-model, and fetching it from the hub failed: .*127\.0\.0\.1:9/);
  });
});

describe('unexpected errors', () => {
  const saved = process.env['VBGE_DEBUG'];
  afterEach(() => {
    if (saved === undefined) delete process.env['VBGE_DEBUG'];
    else process.env['VBGE_DEBUG'] = saved;
  });

  test('are one line (no stack) unless VBGE_DEBUG=1; our own errors are their message', () => {
    const err = new TypeError('cannot read properties of undefined\n  (reading "x")');
    delete process.env['VBGE_DEBUG'];
    const line = describeError(err);
    expect(line).toBe('unexpected error: TypeError: cannot read properties of undefined (reading "x") (VBGE_DEBUG=1 shows where)');
    expect(describeError(new ConfigError('--threads is 9999, the limit is 256'))).toBe('--threads is 9999, the limit is 256');
    process.env['VBGE_DEBUG'] = '1';
    expect(describeError(err)).toMatch(/^unexpected error: TypeError: cannot read[\s\S]*\n\s+at /);
  });
});
