import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObjectMembers } from '../../src/eval/files.js';

const tmp = mkdtempSync(join(tmpdir(), 'vbge-eval-files-'));

async function members(text: string, chunkBytes?: number): Promise<[string, unknown][]> {
  const path = join(tmp, `f${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  const out: [string, unknown][] = [];
  for await (const m of readObjectMembers(path, 'test data', chunkBytes !== undefined ? { chunkBytes } : {})) out.push(m);
  return out;
}

describe('streamed JSON object members', () => {
  const g1 = { Q: 'a "quoted", {braced} [bracketed] question\\', facts: [{ fact: 'x, y', n: 1 }, []], e: {} };
  const deja = { Q: 'naïve 🌍 text', list: [1, [2, [3]]] };
  // Written by hand: a JS object would put the integer-like keys first.
  const text = `{"g1": ${JSON.stringify(g1, null, 1)},\n "dé,jà":${JSON.stringify(deja)} , "10": null, "2": "last"}\n`;

  it('yields every member in file order, whatever the chunk size', async () => {
    const expected = [['g1', g1], ['dé,jà', deja], ['10', null], ['2', 'last']];
    for (const chunk of [1, 2, 7, 64, undefined]) expect(await members(text, chunk), `chunk ${chunk}`).toEqual(expected);
  });

  it('reads an empty object, and refuses what is not one object', async () => {
    expect(await members(' {\n} ')).toEqual([]);
    await expect(members('[1, 2]')).rejects.toThrow(/must be one JSON object \(test data\)/);
    await expect(members('{"a": 1} {"b": 2}')).rejects.toThrow(/must be one JSON object/);
    await expect(members('{"a": 1, "b": ')).rejects.toThrow(/not valid JSON \(test data\)/);
    await expect(members('{"a": tru}')).rejects.toThrow(/not valid JSON \(test data\) near/);
    await expect(members('')).rejects.toThrow(/empty/);
  });
});

describe('JSONL lines', () => {
  it('refuses a line over the JSONL limit, naming file, line and bytes', async () => {
    const { readLines } = await import('../../src/eval/files.js');
    const { LIMITS } = await import('../../src/limits.js');
    const path = join(tmp, 'long.jsonl');
    // Fewer characters than the limit, more bytes: three-byte characters.
    const long = '€'.repeat(Math.ceil(LIMITS.maxJsonlLineBytes / 3) + 1);
    writeFileSync(path, `{"_id": "a"}\n\n${long}\n`);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const { line } of readLines(path)) seen.push(line);
      })(),
    ).rejects.toThrow(new RegExp(`long\\.jsonl:3: line is ${Buffer.byteLength(long)} bytes, the limit is ${LIMITS.maxJsonlLineBytes}`));
    expect(seen).toEqual([1]); // the empty line 2 is skipped
  });
});
