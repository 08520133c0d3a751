/** `textOnly`: the text tower alone — the same text bits, images refused by name, no vision session. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Encoder, type EncodeInput } from '../../src/encoder.js';
import { InputError } from '../../src/errors.js';
import { modelArgs, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

const files = fixtureModelFiles('tiny-bert');
const texts: EncodeInput[] = [{ text: 'a photo of a cat' }, { text: 'night sky over the river', name: 'caption' }, { text: '' }];
const bytes = (vs: readonly Float32Array[]): Buffer => Buffer.concat(vs.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));

async function embed(options: Parameters<typeof Encoder.load>[0], inputs: readonly EncodeInput[]): Promise<Buffer> {
  const encoder = await Encoder.load({ ...files, threads: 2, ...options });
  try {
    return bytes(await encoder.encode(inputs));
  } finally {
    await encoder.close();
  }
}

describe('Encoder.load({ textOnly: true })', () => {
  test('embeds texts bit for bit as the full encoder does, from memory, a fresh cache, an optimised cache and an export', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'vbge-text-only-'));
    const reference = await embed({ graphCache: false }, texts);
    expect(await embed({ graphCache: false, textOnly: true }, texts)).toEqual(reference);
    // A fresh entry opened for text only takes only the text graph to stage 2: the vision graph was never opened.
    expect((await embed({ graphCache: cache, textOnly: true }, texts)).equals(reference)).toBe(true);
    const [entry] = (await import('node:fs')).readdirSync(join(cache, 'graphs'));
    expect(existsSync(join(cache, 'graphs', entry!, 'text.opt.onnx'))).toBe(true);
    expect(existsSync(join(cache, 'graphs', entry!, 'vision.opt.onnx'))).toBe(false);
    // A full load later still finds (and optimises) the vision graph.
    expect((await embed({ graphCache: cache }, texts)).equals(reference)).toBe(true);
    expect(existsSync(join(cache, 'graphs', entry!, 'vision.opt.onnx'))).toBe(true);
    expect((await embed({ graphCache: cache, textOnly: true }, texts)).equals(reference)).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'vbge-text-only-export-'));
    expect((await runCli(['export', ...modelArgs(files), '--onnx', dir])).code).toBe(0);
    expect((await embed({ weights: undefined, textModel: undefined, visionConfig: undefined, onnx: dir, textOnly: true }, texts)).equals(reference)).toBe(true);
  });

  test('an input with an image fails with an InputError that names it; the texts beside it are embedded', async () => {
    const encoder = await Encoder.load({ ...files, threads: 1, textOnly: true });
    try {
      const results = await encoder.encodeSettled([
        { text: 'a photo of a cat' },
        { image: join(FIXTURES, 'images', 'cir_query.png'), name: 'query photo' },
        { image: join(FIXTURES, 'images', 'wiki_candi_1.jpg'), text: 'a building' },
      ]);
      expect(results[0]!.ok).toBe(true);
      for (const [i, name] of [[1, 'query photo'], [2, 'input 2']] as const) {
        const r = results[i]!;
        expect(r.ok).toBe(false);
        if (r.ok) continue;
        expect(r.error).toBeInstanceOf(InputError);
        expect(r.error.message).toContain(name);
        expect(r.error.message).toMatch(/has an image, but this encoder was loaded with textOnly/);
      }
    } finally {
      await encoder.close();
    }
  });
});
