/** `vbge embed` through its documented contract (design.md, "The CLI contract"). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { modelArgs, runCli } from '../helpers/cli.js';
import { type SingleCase, fixturePath, loadCases } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';
import { TOL, maxAbsDiff } from '../helpers/tolerances.js';

const files = fixtureModelFiles('tiny-bert');
const cases = loadCases('tiny-bert');
const single = (id: string): SingleCase => cases.cases.find((c): c is SingleCase => c.id === id && !c.batch)!;
const tmp = mkdtempSync(join(tmpdir(), 'vbge-cli-'));

function parseLines(stdout: string): { id: string | number; embedding: number[] }[] {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string | number; embedding: number[] });
}

describe('vbge embed', () => {
  test('--text, --image and both give the recorded embeddings', async () => {
    for (const [id, args] of [
      ['text-01', ['--text', single('text-01').text!]],
      ['image-01', ['--image', fixturePath('tiny-bert', single('image-01').image!)]],
      ['mm-01', ['--image', fixturePath('tiny-bert', single('mm-01').image!), '--text', single('mm-01').text!]],
    ] as const) {
      const r = await runCli(['embed', ...modelArgs(files), ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [line] = parseLines(r.stdout);
      expect(maxAbsDiff(line!.embedding, single(id).embedding), id).toBeLessThanOrEqual(TOL.embedding);
    }
  });

  test('printed decimals round-trip every float32 exactly', async () => {
    const r = await runCli(['embed', ...modelArgs(files), '--text', 'a dog', '--format', 'npy', '--output', join(tmp, 'one.npy')]);
    expect(r.code).toBe(0);
    const npy = readFileSync(join(tmp, 'one.npy'));
    const fromNpy = new Float32Array(npy.buffer.slice(npy.byteOffset + 128, npy.byteOffset + npy.byteLength));
    const j = await runCli(['embed', ...modelArgs(files), '--text', 'a dog']);
    const values = parseLines(j.stdout)[0]!.embedding.map((v) => Math.fround(v));
    expect(Array.from(fromNpy)).toEqual(values);
  });

  test('JSONL input: good inputs are written, each bad one gets one stderr line, exit code is non-zero', async () => {
    const corrupt = join(tmp, 'corrupt.png');
    writeFileSync(corrupt, readFileSync(fixturePath('tiny-bert', single('image-01').image!)).subarray(0, 5000));
    const lines = [
      { id: 'ok-text', text: single('text-01').text },
      { id: 'missing', image: join(tmp, 'does-not-exist.jpg') },
      { id: 'ok-image', image: fixturePath('tiny-bert', single('image-01').image!) },
      { id: 'too-long', text: 'dog '.repeat(600) },
      { id: 'truncated-file', image: corrupt },
      { id: 'ok-mm', image: fixturePath('tiny-bert', single('mm-01').image!), text: single('mm-01').text },
    ];
    const input = join(tmp, 'mixed.jsonl');
    writeFileSync(input, [...lines.map((l) => JSON.stringify(l)), '{broken json'].join('\n'));
    const out = join(tmp, 'mixed.out.jsonl');
    const r = await runCli(['embed', ...modelArgs(files), '--input', input, '--output', out]);
    expect(r.code).not.toBe(0);
    const errors = r.stderr.trim().split('\n');
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/line 2, id "missing".*does-not-exist\.jpg/);
    expect(errors[1]).toMatch(/line 4, id "too-long".*tokens is 602, the limit is 512/);
    expect(errors[2]).toMatch(/line 5, id "truncated-file".*corrupt\.png/);
    expect(errors[3]).toMatch(/line 7.*not valid JSON/);
    const written = parseLines(readFileSync(out, 'utf8'));
    expect(written.map((w) => w.id)).toEqual(['ok-text', 'ok-image', 'ok-mm']);
    expect(maxAbsDiff(written[0]!.embedding, single('text-01').embedding)).toBeLessThanOrEqual(TOL.embedding);
    expect(maxAbsDiff(written[1]!.embedding, single('image-01').embedding)).toBeLessThanOrEqual(TOL.embedding);
    expect(maxAbsDiff(written[2]!.embedding, single('mm-01').embedding)).toBeLessThanOrEqual(TOL.embedding);
  });

  test('--truncate embeds an over-long text instead of failing it', async () => {
    const r = await runCli(['embed', ...modelArgs(files), '--text', 'dog '.repeat(600), '--truncate']);
    expect(r.code).toBe(0);
    expect(parseLines(r.stdout)[0]!.embedding).toHaveLength(32);
  });

  test('stdin input with "-"', async () => {
    const r = await runCli(['embed', ...modelArgs(files), '--input', '-'], { stdin: `${JSON.stringify({ id: 1, text: single('text-02').text })}\n` });
    expect(r.code).toBe(0);
    const [line] = parseLines(r.stdout);
    expect(line!.id).toBe(1);
    expect(maxAbsDiff(line!.embedding, single('text-02').embedding)).toBeLessThanOrEqual(TOL.embedding);
  });

  test('npy output keeps rows aligned with inputs (NaN rows for failures)', async () => {
    const input = join(tmp, 'npy.jsonl');
    writeFileSync(input, [{ text: 'a' }, { image: join(tmp, 'nope.png') }, { text: 'b' }].map((l) => JSON.stringify(l)).join('\n'));
    const out = join(tmp, 'out.npy');
    const r = await runCli(['embed', ...modelArgs(files), '--input', input, '--format', 'npy', '--output', out]);
    expect(r.code).toBe(1);
    const npy = readFileSync(out);
    expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect(npy.subarray(10, 128).toString('latin1')).toContain("'shape': (3, 32)");
    const m = new Float32Array(npy.buffer.slice(npy.byteOffset + 128, npy.byteOffset + npy.byteLength));
    expect(m.length).toBe(96);
    expect(Number.isNaN(m[32])).toBe(true);
    expect(Number.isFinite(m[0]) && Number.isFinite(m[64])).toBe(true);
  });

  test('a missing checkpoint, a corrupt checkpoint and a text-model checkpoint each give one clear line', async () => {
    const corrupt = join(tmp, 'corrupt.pth');
    writeFileSync(corrupt, readFileSync(files.weights).subarray(0, 100_000));
    for (const [weights, pattern] of [
      [join(tmp, 'missing.pth'), /missing\.pth.*not found/],
      [corrupt, /corrupt\.pth/],
      [join(files.textModel, 'model.safetensors'), /model\.safetensors: not a Visualized BGE checkpoint/],
    ] as const) {
      const r = await runCli(['embed', '--weights', weights, '--text-model', files.textModel, '--vision-config', files.visionConfig, '--text', 'x']);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  });

  test('bad option values are refused with one line', async () => {
    const r = await runCli(['embed', ...modelArgs(files), '--text', 'x', '--batch-size', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/--batch-size must be a positive integer/);
  });
});
