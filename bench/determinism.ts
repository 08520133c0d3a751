/**
 * The full-width determinism check (test/helpers/full-width.ts) as a bench section: base, and m3
 * unless --quick; its result goes into the bench JSON as `determinism_full_width`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFullWidth, writeShallowFullWidth } from '../test/helpers/full-width.js';

type Row = [string, string, string];

export async function benchDeterminism(result: Record<string, unknown>, rows: Row[], log: (line: string) => void, quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vbge-bench-determinism-'));
  const out: Record<string, unknown> = {};
  try {
    for (const variant of quick ? (['base'] as const) : (['base', 'm3'] as const)) {
      log(`${variant}: determinism at full width (one block, one layer; canaries every way and in a fresh process) …`);
      const report = await checkFullWidth(variant, writeShallowFullWidth(variant, join(dir, variant)), join(dir, `${variant}-cache`));
      const failed = report.checks.filter((c) => !c.ok);
      out[variant] = { width: report.width, ok: report.ok, canary_sha256: report.canarySha256, checks: report.checks.map((c) => ({ name: c.name, ok: c.ok })) };
      rows.push([`${variant}: bitwise determinism at width ${report.width}`, report.ok ? 'ok' : 'FAILED', report.ok ? `${report.checks.length} checks` : failed.map((c) => `${c.name}: ${c.detail}`).join('; ')]);
      rmSync(join(dir, variant), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result['determinism_full_width'] = out;
}
