import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.js';
import {
  PickleDict,
  PickleGlobal,
  PickleObject,
  PickleTuple,
  unpickle,
  type PickleValue,
  type UnpickleHooks,
} from '../../src/checkpoint/index.js';

/** A tiny assembler: numbers are opcodes/bytes, strings are latin-1 text. */
function asm(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: number): number[] => [...u32(n), 0, 0, 0, 0];
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

const calls: string[] = [];
const hooks: UnpickleHooks = {
  resolveGlobal(module, name) {
    if (module === 'collections' && name === 'OrderedDict') return new PickleGlobal(module, name);
    if (module === 'test' && name === 'pair') return new PickleGlobal(module, name);
    throw new CheckpointError('t.pkl', `refused ${module}.${name}`);
  },
  call(fn, args) {
    calls.push(fn.qualifiedName);
    if (fn.name === 'OrderedDict') return new PickleDict();
    return new PickleObject(args);
  },
  persistentLoad(pid) {
    return new PickleObject({ pid });
  },
};
const load = (b: Uint8Array): PickleValue => unpickle(b, hooks, 't.pkl', 'data.pkl');

describe('pickle interpreter', () => {
  it('protocol 4: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINUNICODE8, lists, LONG_BINPUT/GET', () => {
    const b = asm(
      0x80, 4, 0x95, u64(0), // PROTO 4, FRAME
      0x8c, 11, 'collections', 0x94, 0x8c, 11, 'OrderedDict', 0x94, 0x93, 0x94, // STACK_GLOBAL (memo 0..2)
      0x29, 0x52, 0x94, // OrderedDict() (memo 3)
      0x28, // MARK
      0x8d, u64(3), 'key', // BINUNICODE8
      0x5d, 0x94, // EMPTY_LIST (memo 4)
      0x4b, 7, 0x61, // APPEND 7
      0x28, 0x4d, [0x34, 0x12], 0x4a, u32(-5 >>> 0), 0x8a, 2, [0xff, 0x7f], 0x65, // APPENDS 0x1234, -5, 32767
      0x72, u32(1000), // LONG_BINPUT 1000
      0x58, u32(utf8('ü-ß').length), utf8('ü-ß'), 0x6a, u32(1000), // BINUNICODE 'ü-ß', LONG_BINGET 1000 (the list again)
      0x75, // SETITEMS
      0x2e,
    );
    const v = load(b) as PickleDict;
    expect(v).toBeInstanceOf(PickleDict);
    expect([...v.entries.keys()]).toEqual(['key', 'ü-ß']);
    expect(v.entries.get('key')).toEqual([7, 0x1234, -5, 32767]);
    expect(v.entries.get('ü-ß')).toBe(v.entries.get('key')); // same object through the memo
  });

  it('numbers, constants, tuples, bytes, dicts and BUILD', () => {
    const b = asm(
      0x80, 2,
      0x28,
      0x4e, 0x88, 0x89, // None True False
      0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0, 1], // LONG1 2^64
      0x8a, 1, [0x80], // LONG1 -128
      0x47, [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], // BINFLOAT 1.5
      0x43, 2, [9, 8], // SHORT_BINBYTES
      0x4b, 1, 0x85, 0x4b, 1, 0x4b, 2, 0x86, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x87, // TUPLE1/2/3
      0x7d, 0x55, 1, 'a', 0x4b, 1, 0x73, // {'a': 1} via SETITEM
      0x28, 0x55, 1, 'b', 0x4b, 2, 0x64, // DICT
      0x63, 'collections\nOrderedDict\n', 0x29, 0x52, 0x7d, 0x62, // OrderedDict() then BUILD {}
      0x74, 0x2e,
    );
    const t = load(b) as PickleTuple;
    expect(t.items.slice(0, 7)).toEqual([null, true, false, 2n ** 64n, -128, 1.5, Uint8Array.of(9, 8)]);
    expect((t.items[7] as PickleTuple).items).toEqual([1]);
    expect((t.items[9] as PickleTuple).items).toEqual([1, 2, 3]);
    expect([...(t.items[10] as PickleDict).entries]).toEqual([['a', 1]]);
    expect([...(t.items[11] as PickleDict).entries]).toEqual([['b', 2]]);
    expect((t.items[12] as PickleDict).attributes).toBeInstanceOf(PickleDict);
  });

  it('persistent ids go to the hook', () => {
    const v = load(asm(0x80, 2, 0x58, u32(1), 'x', 0x51, 0x2e)) as PickleObject<{ pid: string }>;
    expect(v.payload.pid).toBe('x');
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['no STOP', asm(0x80, 2, 0x4e), /no STOP/],
    ['truncated string', asm(0x80, 2, 0x58, u32(100), 'abc'), /truncated pickle/],
    ['unknown opcode', asm(0x80, 2, 0xff), /unknown pickle opcode 0xff/],
    ['stack underflow', asm(0x80, 2, 0x86, 0x2e), /stack underflow/],
    ['undefined memo', asm(0x80, 2, 0x68, 5, 0x2e), /memo entry 5/],
    ['refused global', asm(0x80, 2, 0x63, 'os\nsystem\n', 0x2e), /refused os\.system/],
    ['NEWOBJ', asm(0x80, 2, 0x81, 0x2e), /NEWOBJ is not supported/],
    ['bad UTF-8', asm(0x80, 2, 0x8c, 1, [0xff], 0x2e), /invalid UTF-8/],
    ['leftover stack', asm(0x80, 2, 0x4e, 0x4e, 0x2e), /malformed stack/],
    ['REDUCE of non-global', asm(0x80, 2, 0x4e, 0x29, 0x52, 0x2e), /not an allowed global/],
    ['SETITEMS on a list', asm(0x80, 2, 0x5d, 0x28, 0x4e, 0x4e, 0x75, 0x2e), /not a dict/],
    ['huge BINUNICODE8', asm(0x80, 2, 0x8d, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 0x2e), /truncated/],
  ];
  it.each(bad)('%s → CheckpointError', (_name, bytes, re) => {
    let err: unknown;
    try {
      load(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain('t.pkl');
  });
});
