/**
 * Bitwise determinism at the published widths (768 and 1024), where the full-size GEMM kernels
 * run: see test/helpers/full-width.ts. Slow group: each variant is written, converted and run
 * twice over the 13 canaries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadVisualizedWeights } from '../../src/checkpoint/index.js';
import { checkFullWidth, writeShallowFullWidth } from '../helpers/full-width.js';

const dir = mkdtempSync(join(tmpdir(), 'vbge-full-width-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['base', 768, 3072, 2048],
  ['m3', 1024, 4096, 2730],
] as const)('%s at full width', (variant, width, mlp, swiglu) => {
  test(`width ${width}: 1 vs 2 threads, alone vs batched, batch composition, fresh process — bitwise`, { timeout: 900_000 }, async () => {
    const files = writeShallowFullWidth(variant, join(dir, variant));
    // The checkpoint really has the full-size matrices.
    const w = loadVisualizedWeights(files.weights);
    expect(w.shape('bge_encoder.layer.0.intermediate.dense.weight')).toEqual([mlp, width]);
    expect(w.shape('model_visual.visual.blocks.0.mlp.w1.weight')).toEqual([swiglu, width]);
    const report = await checkFullWidth(variant, files, join(dir, `${variant}-cache`));
    for (const c of report.checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    expect(report.checks.map((c) => c.name)).toContain('thread-invariant (1 thread vs 2)');
    rmSync(join(dir, variant), { recursive: true, force: true });
  });
});
