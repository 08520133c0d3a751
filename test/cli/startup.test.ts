/**
 * `vbge` loads what a command needs when the command runs: ONNX Runtime, sharp, the HTTP server
 * and protobuf cost about 0.4 s of start-up, which `vbge --help`, a bad option or `vbge search`
 * on an index should not pay for.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HEAVY = ['onnxruntime-node', 'onnxruntime-common', 'sharp', 'fastify', 'prom-client', 'protobufjs', '@lancedb/lancedb', '@electric-sql/pglite', 'pg'];

describe('vbge start-up', () => {
  test('building the command line loads none of the heavy libraries', () => {
    const script = `
      import { createRequire } from 'node:module';
      const { buildProgram } = await import(${JSON.stringify(resolve(ROOT, 'src/cli/main.ts'))});
      buildProgram().helpInformation();
      const loaded = new Set();
      for (const path of Object.keys(createRequire(import.meta.url).cache)) {
        const m = path.match(/node_modules\\/((@[^/]+\\/)?[^/]+)\\//);
        if (m) loaded.add(m[1]);
      }
      console.log(JSON.stringify([...loaded]));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
    expect(child.status, child.stderr).toBe(0);
    const loaded = JSON.parse(child.stdout.trim().split('\n').pop()!) as string[];
    expect(loaded).toContain('commander');
    expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
  });
});
