/**
 * A small pickle interpreter for the data that `torch.save` writes: protocol 2, plus the
 * protocol 3–5 opcodes newer writers use. It never imports or runs code: every GLOBAL goes through
 * the caller's `resolveGlobal`, which refuses anything outside its allow-list, and every call
 * (REDUCE) goes through the caller's `call`.
 */
import { CheckpointError } from '../errors.js';

/** A pickled tuple (immutable; distinct from a list). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A pickled dict; keys keep insertion order. `attributes` holds a BUILD state, if any. */
export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
  attributes: PickleValue | undefined;
}

/** A reference to an allowed global (`module.name`), as resolved by the caller. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object the caller built (from REDUCE or a persistent id); opaque to the interpreter. */
export class PickleObject<T = unknown> {
  constructor(readonly payload: T) {}
}

export type PickleKey = string | number | bigint | boolean | null;

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | PickleObject;

export interface UnpickleHooks {
  /** Returns the global, or throws (a CheckpointError naming it) when it is not allowed. */
  resolveGlobal(module: string, name: string): PickleGlobal;
  /** `callable(*args)` for REDUCE; `callable` is always a value returned by `resolveGlobal`. */
  call(callable: PickleGlobal, args: readonly PickleValue[]): PickleValue;
  /** Resolves a persistent id (BINPERSID / PERSID). */
  persistentLoad(pid: PickleValue): PickleValue;
}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/** Most memo entries we accept; a state dict uses a few per tensor. */
const MAX_MEMO_ENTRIES = 50_000_000;

/**
 * Interprets `data` (a whole pickle) and returns the value STOP leaves on the stack. Errors are
 * CheckpointErrors on `source` that name the byte offset in `what` (e.g. `archive/data.pkl`).
 */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks, source: string, what: string): PickleValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let opPos = 0;

  const fail: (message: string) => never = (message) => {
    throw new CheckpointError(source, `${what}: ${message} (at byte ${opPos})`);
  };
  const need = (n: number | bigint): number => {
    if (typeof n === 'bigint') {
      if (n > BigInt(data.length - pos)) fail(`truncated pickle: needs ${n} more bytes, ${data.length - pos} left`);
      n = Number(n);
    }
    if (n < 0 || pos + n > data.length) fail(`truncated pickle: needs ${n} more bytes, ${data.length - pos} left`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => data[need(1)]!;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u64 = (): bigint => view.getBigUint64(need(8), true);
  const bytes = (n: number | bigint): Uint8Array => {
    const at = need(n);
    return data.subarray(at, pos);
  };
  const text = (n: number | bigint): string => {
    const b = bytes(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('invalid UTF-8 in a string');
    }
  };
  const latin1 = (n: number): string => {
    const b = bytes(n);
    let s = '';
    for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
    return s;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: unterminated text argument');
    const s = latin1(end - pos);
    pos++;
    return s;
  };

  const pop = (): PickleValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      fail('stack underflow (corrupt pickle)');
    }
    const v = stack.pop()!;
    if (v === MARK) fail('unexpected MARK on the stack (corrupt pickle)');
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('stack underflow (corrupt pickle)');
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop (corrupt pickle)');
    const items = stack.splice(m!) as PickleValue[];
    return items;
  };
  const memoPut = (index: number, value: PickleValue): void => {
    if (!memo.has(index) && memo.size >= MAX_MEMO_ENTRIES) fail(`more than ${MAX_MEMO_ENTRIES} memo entries`);
    memo.set(index, value);
  };
  const memoGet = (index: number): PickleValue => {
    if (!memo.has(index)) fail(`memo entry ${index} is not defined (corrupt pickle)`);
    return memo.get(index)!;
  };
  const asKey = (k: PickleValue): PickleKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') {
      return k;
    }
    return fail('unsupported dict key type (only str, int, bool and None keys are accepted)');
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof PickleDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    const dict = target as PickleDict;
    for (let i = 0; i < items.length; i += 2) dict.entries.set(asKey(items[i]!), items[i + 1]!);
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list');
    (target as PickleValue[]).push(...items);
  };
  const littleEndianInt = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const global = (module: string, name: string): PickleGlobal => hooks.resolveGlobal(module, name);

  while (true) {
    opPos = pos;
    if (pos >= data.length) fail('truncated pickle: no STOP opcode');
    const op = data[pos++]!;
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME: framing is only a hint for buffered readers
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail('STOP with a malformed stack (corrupt pickle)');
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > 0 && stack[stack.length - 1] === MARK) fail('POP of a MARK');
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(littleEndianInt(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('LONG4 with a negative length');
        stack.push(littleEndianInt(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): "01"/"00" are True/False in protocol 0
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else {
          if (!/^[-+]?\d+$/.test(s)) fail(`bad INT argument "${s}"`);
          const v = BigInt(s);
          stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        }
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: {
        // BINSTRING (Python 2 str; decoded as latin-1 like Python 3's default encoding='ASCII' would fail)
        const n = i32();
        if (n < 0) fail('BINSTRING with a negative length');
        stack.push(latin1(n));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x64: {
        // DICT
        const d = new PickleDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal)) fail('REDUCE on something that is not an allowed global');
        if (!(args instanceof PickleTuple)) fail('REDUCE arguments are not a tuple');
        stack.push(hooks.call(callable as PickleGlobal, (args as PickleTuple).items));
        break;
      }
      case 0x62: {
        // BUILD: only dict attributes (torch's `_metadata`) are meaningful here; keep them aside
        const state = pop();
        const target = top();
        if (target instanceof PickleDict) target.attributes = state;
        else if (!(target instanceof PickleObject)) fail('BUILD on an unsupported object');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(hooks.persistentLoad(line()));
        break;
      case 0x71: // BINPUT
        memoPut(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32(), top());
        break;
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`bad PUT argument "${s}"`);
        memoPut(Number(s), top());
        break;
      }
      case 0x94: // MEMOIZE
        memoPut(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: {
        // GET (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`bad GET argument "${s}"`);
        stack.push(memoGet(Number(s)));
        break;
      }
      default: {
        const name = REFUSED_OPCODES[op];
        fail(
          name
            ? `pickle opcode ${name} is not supported in a weights file`
            : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (corrupt pickle)`,
        );
      }
    }
  }
}

/** Opcodes that are valid pickle but never appear in a state dict (object construction, extensions). */
const REFUSED_OPCODES: Record<number, string> = {
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x46: 'FLOAT',
  0x4c: 'LONG',
  0x53: 'STRING',
  0x56: 'UNICODE',
};
