/** readExportManifest: a damaged or foreign manifest.json is a CheckpointError naming what is wrong, never a TypeError. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { CheckpointError } from '../../src/errors.js';
import { EXPORT_FORMAT, readExportManifest } from '../../src/load/export.js';

function folderWith(manifest: string, files: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'vbge-manifest-'));
  writeFileSync(join(dir, 'manifest.json'), manifest);
  for (const f of files) writeFileSync(join(dir, f), '');
  return dir;
}

const complete = {
  format: EXPORT_FORMAT,
  config: { vision: {}, text: {} },
  graphs: { vision: { file: 'vision.onnx', data: 'vision.onnx.data' }, text: { file: 'text.onnx', data: 'text.onnx.data' } },
  tokenizer: { dir: 'tokenizer' },
  provenance: {},
};
const withField = (path: string[], value: unknown): string => {
  const copy = structuredClone(complete) as Record<string, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  if (value === undefined) delete at[path.at(-1)!];
  else at[path.at(-1)!] = value;
  return JSON.stringify(copy);
};

describe('readExportManifest', () => {
  test.each([
    ['not JSON', '{"format": ', /manifest\.json: not an exported Visualized BGE model \(/],
    ['a JSON array', '[]', /manifest\.json: not a JSON object/],
    ['another format', withField(['format'], 'other/2'), /manifest\.json: format is "other\/2", expected "visualized-bge-onnx\/1"/],
    ['no graphs', withField(['graphs'], undefined), /manifest\.json: "graphs\.vision\.file" must be a file name/],
    ['a graph file that is a number', withField(['graphs', 'text', 'data'], 7), /manifest\.json: "graphs\.text\.data" must be a file name/],
    ['no config', withField(['config'], undefined), /manifest\.json: "config\.vision" must be an object/],
    ['no provenance', withField(['provenance'], null), /manifest\.json: "provenance" must be an object/],
    ['no tokenizer folder', withField(['tokenizer'], {}), /manifest\.json: "tokenizer\.dir" must be a file name/],
  ])('%s: a CheckpointError naming it', (_, manifest, message) => {
    const dir = folderWith(manifest);
    let err: unknown;
    try {
      readExportManifest(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(message);
  });

  test('a file the manifest names but the folder lacks is named', () => {
    const dir = folderWith(JSON.stringify(complete), ['vision.onnx', 'vision.onnx.data', 'text.onnx']);
    expect(() => readExportManifest(dir)).toThrow(new CheckpointError(join(dir, 'text.onnx.data'), 'missing from the exported model'));
  });

  test('a complete manifest is read', () => {
    const dir = folderWith(JSON.stringify(complete), ['vision.onnx', 'vision.onnx.data', 'text.onnx', 'text.onnx.data']);
    mkdirSync(join(dir, 'tokenizer'));
    expect(readExportManifest(dir).graphs.text.file).toBe('text.onnx');
  });

  test('Encoder.load({ onnx }) rejects with the same CheckpointError', async () => {
    const dir = folderWith(withField(['graphs'], undefined));
    await expect(Encoder.load({ onnx: dir, imageWorkers: 0 })).rejects.toThrow(CheckpointError);
  });
});
