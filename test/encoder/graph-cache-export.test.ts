/** The converted-graph cache and `vbge export --onnx`: same bits, and the second load skips conversion. */
import { mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { Encoder, type EncodeInput } from '../../src/encoder.js';
import { modelArgs, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const files = fixtureModelFiles('tiny-xlmr');
const inputs: EncodeInput[] = [
  { text: 'une photo d’un chat' },
  { image: join(FIXTURES, 'images', 'cir_query.png') },
  { image: join(FIXTURES, 'images', 'wiki_candi_1.jpg'), text: 'a building' },
];
const bytes = (vs: Float32Array[]): Buffer => Buffer.concat(vs.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));

async function embedWith(options: Parameters<typeof Encoder.load>[0]): Promise<{ out: Buffer; source: string }> {
  const encoder = await Encoder.load({ threads: 1, imageWorkers: 0, ...options });
  try {
    return { out: bytes(await encoder.encode(inputs)), source: encoder.graphSource };
  } finally {
    await encoder.close();
  }
}

describe('graph cache', () => {
  test('first load builds, stores and optimises; later loads use the optimised entry; all bitwise equal to the in-memory build', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-'));
    const memory = await embedWith({ ...files, graphCache: false });
    const first = await embedWith({ ...files, graphCache: cache });
    const second = await embedWith({ ...files, graphCache: cache });
    expect(memory.source).toBe('memory');
    expect(first.source).toBe('built-and-cached');
    expect(second.source).toBe('cache');
    expect(first.out.equals(memory.out)).toBe(true);
    expect(second.out.equals(memory.out)).toBe(true);
    const entries = readdirSync(join(cache, 'graphs'));
    expect(entries).toHaveLength(1);
    // The entry now describes the optimised graphs only; the portable files wait out a grace
    // period for processes that may still be opening them.
    const sizes = JSON.parse(readFileSync(join(cache, 'graphs', entries[0]!, 'sizes.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(sizes).sort()).toEqual(['text.opt.onnx', 'text.opt.onnx.data', 'vision.opt.onnx', 'vision.opt.onnx.data']);
  });

  test('a damaged entry is never used: a truncated file is rebuilt, a corrupt one is replaced on load', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-'));
    const reference = await embedWith({ ...files, graphCache: cache });
    const entry = join(cache, 'graphs', readdirSync(join(cache, 'graphs'))[0]!);
    // Truncated: the recorded sizes no longer match, so the entry is not even tried.
    truncateSync(join(entry, 'text.opt.onnx.data'), 100);
    const afterTruncation = await embedWith({ ...files, graphCache: cache });
    expect(afterTruncation.source).toBe('built-and-cached');
    expect(afterTruncation.out.equals(reference.out)).toBe(true);
    // Same size but garbage in the model protobuf: session creation fails, the entry is rebuilt.
    const model = join(entry, 'vision.opt.onnx');
    writeFileSync(model, Buffer.alloc(statSync(model).size, 0xff));
    const afterCorruption = await embedWith({ ...files, graphCache: cache });
    expect(afterCorruption.source).toBe('built-and-cached');
    expect(afterCorruption.out.equals(reference.out)).toBe(true);
    expect((await embedWith({ ...files, graphCache: cache })).source).toBe('cache');
  });

  /** The entry's recorded files, and what each graph's portable-only note says (if any). */
  function entryState(cache: string): { files: string[]; portableOnly: Record<string, string> } {
    const entry = join(cache, 'graphs', readdirSync(join(cache, 'graphs'))[0]!);
    const sizes = JSON.parse(readFileSync(join(entry, 'sizes.json'), 'utf8')) as Record<string, number>;
    const portableOnly = Object.fromEntries(
      readdirSync(entry)
        .filter((f) => f.endsWith('.portable-only.txt'))
        .map((f) => [f.split('.')[0]!, readFileSync(join(entry, f), 'utf8')]),
    );
    return { files: Object.keys(sizes).sort(), portableOnly };
  }

  /** Loads with the check process made to fail for real (see src/runtime/graph-probe.ts). */
  async function embedWithProbeFault(fault: string, cache: string): Promise<{ out: Buffer; source: string }> {
    vi.stubEnv('VBGE_TEST_PROBE_FAULT', fault);
    try {
      return await embedWith({ ...files, graphCache: cache });
    } finally {
      vi.unstubAllEnvs();
    }
  }

  test.each([
    ['vision:crash', 'vision', /did not pass its check: the check process was killed by SIGSEGV/],
    ['text:mismatch', 'text', /did not pass its check: its outputs differ \(sha256 [0-9a-f]{64} instead of [0-9a-f]{64}\)/],
  ])('%s: the graph whose optimised file fails its check stays portable for good; the other is optimised; same bits', async (fault, graph, why) => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-'));
    const reference = await embedWith({ ...files, graphCache: false });
    const first = await embedWithProbeFault(fault, cache);
    expect(first.out.equals(reference.out)).toBe(true);
    const other = graph === 'vision' ? 'text' : 'vision';
    const expected = [`${graph}.onnx`, `${graph}.onnx.data`, `${other}.opt.onnx`, `${other}.opt.onnx.data`].sort();
    const state = entryState(cache);
    expect(state.files).toEqual(expected);
    expect(Object.keys(state.portableOnly)).toEqual([graph]);
    expect(state.portableOnly[graph]).toMatch(why);
    // Decided for good: a later load, with nothing failing, does not try the optimised file again.
    const later = await embedWith({ ...files, graphCache: cache });
    expect(later.source).toBe('cache');
    expect(later.out.equals(reference.out)).toBe(true);
    expect(entryState(cache).files).toEqual(expected);
  });

  test.each(['vision:error', 'vision:killed'])('%s: a check that failed for reasons outside the file leaves the graph pending; the next load optimises it', async (fault) => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-'));
    const reference = await embedWith({ ...files, graphCache: false });
    const first = await embedWithProbeFault(fault, cache);
    expect(first.out.equals(reference.out)).toBe(true);
    expect(entryState(cache)).toEqual({ files: ['text.opt.onnx', 'text.opt.onnx.data', 'vision.onnx', 'vision.onnx.data'], portableOnly: {} });
    const later = await embedWith({ ...files, graphCache: cache });
    expect(later.out.equals(reference.out)).toBe(true);
    expect(entryState(cache)).toEqual({ files: ['text.opt.onnx', 'text.opt.onnx.data', 'vision.opt.onnx', 'vision.opt.onnx.data'], portableOnly: {} });
  });

  test('a different checkpoint gets a different cache entry', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-cache-'));
    await embedWith({ ...files, graphCache: cache });
    const other = fixtureModelFiles('tiny-bert');
    const encoder = await Encoder.load({ ...other, graphCache: cache, threads: 1, imageWorkers: 0 });
    expect(encoder.graphSource).toBe('built-and-cached');
    await encoder.close();
    expect(readdirSync(join(cache, 'graphs'))).toHaveLength(2);
  });
});

describe('vbge export --onnx', () => {
  test('the exported model gives the same embeddings, bitwise, and describes itself', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vbge-export-')), 'model');
    const r = await runCli(['export', ...modelArgs(files), '--onnx', dir]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      format: string;
      graphs: { text: { inputs: { name: string }[] } };
      provenance: { checkpointSha256: string; dim: number };
      tokenizer: { files: string[] };
    };
    expect(manifest.format).toBe('visualized-bge-onnx/1');
    expect(manifest.graphs.text.inputs.map((i) => i.name)).toEqual(['input_ids', 'position_ids', 'attention_mask', 'image_tokens']);
    expect(manifest.provenance.dim).toBe(48);
    expect(manifest.tokenizer.files).toContain('tokenizer.json');
    const exported = await embedWith({ onnx: dir });
    const reference = await embedWith({ ...files, graphCache: false });
    expect(exported.source).toBe('exported');
    expect(exported.out.equals(reference.out)).toBe(true);
    // A second export into the same folder is refused rather than mixing two models.
    const again = await runCli(['export', ...modelArgs(files), '--onnx', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds an exported model/);
  });
});

describe('an unusable graph cache', () => {
  test.each(['/proc/vbge-cache-test', '/etc/hostname'])('VBGE cache at %s: a warning, graphs built in memory, same bits', async (dir) => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const reference = await embedWith({ ...files, graphCache: false });
      const got = await embedWith({ ...files, graphCache: dir });
      expect(got.source).toBe('memory');
      expect(got.out.equals(reference.out)).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((m) => m.includes(dir) && m.includes('building the graphs in memory'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  }, 30_000);
});
