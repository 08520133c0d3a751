/** The JSONL reader of `vbge embed --input`: line splitting in bounded memory, and per-line checks. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type InputLine, type RawLine, parseInputLine, readInputLines, splitLines } from '../../src/cli/jsonl-input.js';
import { LIMITS } from '../../src/limits.js';

const tmp = mkdtempSync(join(tmpdir(), 'vbge-jsonl-'));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

const text = (l: RawLine): string => ('bytes' in l ? l.bytes.toString('utf8') : `<${l.tooLongBytes} bytes>`);

async function readFile(name: string, content: Buffer | string): Promise<InputLine[]> {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return collect(readInputLines(path));
}

describe('splitLines', () => {
  test('splits on \\n across chunk borders, strips \\r, keeps the last line without a newline', async () => {
    const lines = await collect(splitLines(chunks('ab', 'c\r\nd', 'e\n\nf\r', '\ngh'), 10));
    expect(lines.map(text)).toEqual(['abc', 'de', '', 'f', 'gh']);
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4, 5]);
  });

  test('a line of exactly the limit is kept (its \\r not counted); one byte more is refused with its length', async () => {
    const lines = await collect(splitLines(chunks('12345\r\n', '123456\n', '1234', '56', '7\r\n', 'ok'), 5));
    expect(lines.map(text)).toEqual(['12345', '<6 bytes>', '<7 bytes>', 'ok']);
  });

  test('an over-long last line without a newline is refused too', async () => {
    const lines = await collect(splitLines(chunks('ok\n', 'x'.repeat(20)), 8));
    expect(lines.map(text)).toEqual(['ok', '<20 bytes>']);
  });

  test('a UTF-8 BOM at the start of the stream is dropped, one later on is not', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const lines = await collect(splitLines(chunks(Buffer.concat([bom, Buffer.from('a\n')]), Buffer.concat([bom, Buffer.from('b')])), 10));
    expect(lines.map((l) => ('bytes' in l ? [...l.bytes] : []))).toEqual([[0x61], [0xef, 0xbb, 0xbf, 0x62]]);
  });

  test('a 600 MB line is skipped in bounded memory and the lines after it still come through', async () => {
    const block = Buffer.alloc(64 * 1024, 0x78); // one buffer, yielded again and again: the source itself allocates nothing
    const blocks = (600 * 1024 * 1024) / block.length;
    let peak = 0;
    const before = process.memoryUsage();
    const sample = (): void => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers + m.heapUsed - before.arrayBuffers - before.heapUsed);
    };
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"id":"first","text":"a"}\n{"id":"big","text":"');
      for (let i = 0; i < blocks; i++) {
        if (i % 256 === 0) sample();
        yield block;
      }
      yield Buffer.from('"}\n{"id":"last","text":"b"}\n');
    }
    // Sampled at every line too: a splitter that kept the line and joined it at its end would show there.
    const lines: RawLine[] = [];
    for await (const l of splitLines(source(), LIMITS.maxJsonlLineBytes)) {
      sample();
      lines.push(l);
    }
    expect(lines.map(text)).toEqual(['{"id":"first","text":"a"}', `<${Buffer.byteLength('{"id":"big","text":"') + 600 * 1024 * 1024 + 2} bytes>`, '{"id":"last","text":"b"}']);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});

describe('readInputLines', () => {
  test('a BOM-prefixed CRLF file reads like a plain one; blank lines are skipped but counted', async () => {
    const body = '{"id":"a","text":"x"}\r\n\r\n  \r\n{"id":"b","image":"p.png"}\r\n';
    const lines = await readFile('bom.jsonl', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    expect(lines).toEqual([
      { line: 1, id: 'a', text: 'x' },
      { line: 4, id: 'b', image: 'p.png' },
    ]);
  });

  test('invalid UTF-8 and an over-long line fail alone; their neighbours are read', async () => {
    const big = `{"id":"big","text":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    const content = Buffer.concat([
      Buffer.from('{"id":"a","text":"é"}\n'),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from(`${big}\n{"id":"b","text":"y"}`),
    ]);
    const lines = await readFile('mixed.jsonl', content);
    expect(lines).toEqual([
      { line: 1, id: 'a', text: 'é' },
      { line: 2, id: 2, error: 'not valid UTF-8' },
      { line: 3, id: 3, error: `line is ${Buffer.byteLength(big)} bytes, the limit is ${LIMITS.maxJsonlLineBytes}` },
      { line: 4, id: 'b', text: 'y' },
    ]);
  });
});

describe('parseInputLine ids', () => {
  test.each(['12345678901234567890', '1e400', '-1e400', '1.5', '9007199254740993'])('numeric id %s is refused for its line', (id) => {
    expect(parseInputLine(`{"id":${id},"text":"x"}`, 7)).toEqual({ line: 7, id: 7, error: 'numeric id must be a safe integer; quote it as a string' });
  });

  test('safe integer ids, string ids and a missing id are accepted', () => {
    expect(parseInputLine('{"id":9007199254740991,"text":"x"}', 1)).toEqual({ line: 1, id: 9007199254740991, text: 'x' });
    expect(parseInputLine('{"id":-3,"text":"x"}', 1)).toEqual({ line: 1, id: -3, text: 'x' });
    expect(parseInputLine('{"id":"12345678901234567890","text":"x"}', 1)).toEqual({ line: 1, id: '12345678901234567890', text: 'x' });
    expect(parseInputLine('{"text":"x"}', 5)).toEqual({ line: 5, id: 5, text: 'x' });
  });
});
