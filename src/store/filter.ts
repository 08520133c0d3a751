/**
 * `--where` metadata filters, one syntax for every store: a small SQL-like expression language
 * parsed once into a tree, then evaluated in process (the embedded store's exact scan) or turned
 * into a parameterised SQL condition over a jsonb column (Postgres).
 *
 *   year >= 2020 AND kind IN ('photo', 'scan') AND NOT (album = 'junk' OR rating < 2)
 *
 * A comparison holds only when the metadata value has the literal's type: `year >= 2020` is false
 * for a stored "2021" string and for a missing key, on both stores alike.
 */
import { InputError } from '../errors.js';

export type Literal = string | number | boolean;
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Filter =
  | { readonly kind: 'and' | 'or'; readonly left: Filter; readonly right: Filter }
  | { readonly kind: 'not'; readonly operand: Filter }
  | { readonly kind: 'compare'; readonly field: string; readonly op: CompareOp; readonly value: Literal }
  | { readonly kind: 'in'; readonly field: string; readonly values: readonly Literal[] }
  | { readonly kind: 'null'; readonly field: string; readonly negated: boolean };

/** Longest filter expression accepted. */
export const MAX_FILTER_LENGTH = 4096;

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'ident'; text: string; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'number'; value: number; at: number }
  | { type: 'punct'; text: string; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= source.length) throw filterError(source, i, 'unterminated string');
        if (source[j] === "'") {
          if (source[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += source[j];
        j++;
      }
      tokens.push({ type: 'string', value, at: i });
      i = j + 1;
    } else if (c === '"') {
      const end = source.indexOf('"', i + 1);
      if (end < 0) throw filterError(source, i, 'unterminated quoted name');
      tokens.push({ type: 'ident', text: source.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9.]/.test(source[i + 1] ?? '')) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i))!;
      tokens.push({ type: 'number', value: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w.-]*/.exec(source.slice(i))!;
      const upper = m[0].toUpperCase();
      tokens.push(KEYWORDS.has(upper) ? { type: 'word', text: upper, at: i } : { type: 'ident', text: m[0], at: i });
      i += m[0].length;
    } else {
      const two = source.slice(i, i + 2);
      if (['<=', '>=', '!=', '<>'].includes(two)) {
        tokens.push({ type: 'punct', text: two === '<>' ? '!=' : two, at: i });
        i += 2;
      } else if ('=<>(),'.includes(c)) {
        tokens.push({ type: 'punct', text: c, at: i });
        i++;
      } else {
        throw filterError(source, i, `unexpected character "${c}"`);
      }
    }
  }
  return tokens;
}

function filterError(source: string, at: number, message: string): InputError {
  return new InputError(`--where "${source}"`, `${message} at position ${at + 1}`);
}

/** Parses a filter expression; a malformed one is an InputError naming the position. */
export function parseFilter(source: string): Filter {
  if (source.length > MAX_FILTER_LENGTH) throw new InputError('--where', `is ${source.length} characters long; the limit is ${MAX_FILTER_LENGTH}`);
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const at = (): number => peek()?.at ?? source.length;
  const isWord = (w: string): boolean => {
    const t = peek();
    return t?.type === 'word' && t.text === w;
  };
  const isPunct = (p: string): boolean => {
    const t = peek();
    return t?.type === 'punct' && t.text === p;
  };
  const expectPunct = (p: string): void => {
    if (!isPunct(p)) throw filterError(source, at(), `expected "${p}"`);
    pos++;
  };

  const literal = (): Literal => {
    const t = peek();
    if (t?.type === 'string' || t?.type === 'number') {
      pos++;
      return t.value;
    }
    if (t?.type === 'word' && (t.text === 'TRUE' || t.text === 'FALSE')) {
      pos++;
      return t.text === 'TRUE';
    }
    throw filterError(source, at(), "expected a value ('text', a number, true or false)");
  };

  const primary = (): Filter => {
    if (isPunct('(')) {
      pos++;
      const inner = or();
      expectPunct(')');
      return inner;
    }
    const t = peek();
    if (t?.type !== 'ident') throw filterError(source, at(), 'expected a metadata field name');
    pos++;
    const field = t.text;
    if (isWord('IS')) {
      pos++;
      const negated = isWord('NOT');
      if (negated) pos++;
      if (!isWord('NULL')) throw filterError(source, at(), 'expected NULL');
      pos++;
      return { kind: 'null', field, negated };
    }
    const notIn = isWord('NOT');
    if (notIn) pos++;
    if (isWord('IN')) {
      pos++;
      expectPunct('(');
      const values = [literal()];
      while (isPunct(',')) {
        pos++;
        values.push(literal());
      }
      expectPunct(')');
      const node: Filter = { kind: 'in', field, values };
      return notIn ? { kind: 'not', operand: node } : node;
    }
    if (notIn) throw filterError(source, at(), 'expected IN after NOT');
    const op = peek();
    if (op?.type !== 'punct' || !['=', '!=', '<', '<=', '>', '>='].includes(op.text))
      throw filterError(source, at(), 'expected a comparison (=, !=, <, <=, >, >=, IN, IS NULL)');
    pos++;
    return { kind: 'compare', field, op: op.text as CompareOp, value: literal() };
  };

  const not = (): Filter => {
    if (isWord('NOT')) {
      pos++;
      return { kind: 'not', operand: not() };
    }
    return primary();
  };
  const and = (): Filter => {
    let left = not();
    while (isWord('AND')) {
      pos++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const or = (): Filter => {
    let left = and();
    while (isWord('OR')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  if (tokens.length === 0) throw filterError(source, 0, 'empty filter');
  const filter = or();
  if (pos < tokens.length) throw filterError(source, at(), 'unexpected text');
  return filter;
}

/** The value at a dotted path of the metadata (`camera.make` reads `{ camera: { make } }`), or undefined. */
function lookup(metadata: Readonly<Record<string, unknown>>, field: string): unknown {
  let value: unknown = metadata;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function compare(stored: unknown, op: CompareOp, literal: Literal): boolean {
  if (typeof stored !== typeof literal) return false;
  const a = stored as Literal;
  switch (op) {
    case '=':
      return a === literal;
    case '!=':
      return a !== literal;
    case '<':
      return a < literal;
    case '<=':
      return a <= literal;
    case '>':
      return a > literal;
    case '>=':
      return a >= literal;
  }
}

/** Whether an item's metadata satisfies the filter. */
export function matchesFilter(filter: Filter, metadata: Readonly<Record<string, unknown>>): boolean {
  switch (filter.kind) {
    case 'and':
      return matchesFilter(filter.left, metadata) && matchesFilter(filter.right, metadata);
    case 'or':
      return matchesFilter(filter.left, metadata) || matchesFilter(filter.right, metadata);
    case 'not':
      return !matchesFilter(filter.operand, metadata);
    case 'compare':
      return compare(lookup(metadata, filter.field), filter.op, filter.value);
    case 'in': {
      const stored = lookup(metadata, filter.field);
      return filter.values.some((v) => compare(stored, '=', v));
    }
    case 'null': {
      const stored = lookup(metadata, filter.field);
      const isNull = stored === undefined || stored === null;
      return filter.negated ? !isNull : isNull;
    }
  }
}

/**
 * The filter as a SQL condition over a jsonb column. Values become parameters (`$n`, appended to
 * `params`); each comparison first checks the stored value's JSON type, inside a CASE so that
 * Postgres never casts a value of another type.
 */
export function filterToSql(filter: Filter, column: string, params: unknown[]): string {
  const path = (field: string): string => {
    params.push(field.split('.'));
    return `${column} #> $${params.length}::text[]`;
  };
  const typed = (field: string, literal: Literal): { value: string; type: string } => {
    const json = path(field);
    if (typeof literal === 'number') return { value: `(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${json} #>> '{}')::float8 END)`, type: 'float8' };
    if (typeof literal === 'boolean') return { value: `(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${json} #>> '{}')::boolean END)`, type: 'boolean' };
    return { value: `(CASE WHEN jsonb_typeof(${json}) = 'string' THEN ${json} #>> '{}' END) COLLATE "C"`, type: 'text' };
  };
  const param = (literal: Literal, type: string): string => {
    params.push(literal);
    return `$${params.length}::${type}`;
  };
  switch (filter.kind) {
    case 'and':
    case 'or':
      return `(${filterToSql(filter.left, column, params)} ${filter.kind.toUpperCase()} ${filterToSql(filter.right, column, params)})`;
    case 'not':
      // NULL (a type mismatch) must count as false before negation, as in process.
      return `(NOT COALESCE(${filterToSql(filter.operand, column, params)}, false))`;
    case 'compare': {
      const { value, type } = typed(filter.field, filter.value);
      const op = filter.op === '!=' ? '<>' : filter.op;
      return `COALESCE(${value} ${op} ${param(filter.value, type)}, false)`;
    }
    case 'in': {
      const parts = filter.values.map((v) => {
        const { value, type } = typed(filter.field, v);
        return `COALESCE(${value} = ${param(v, type)}, false)`;
      });
      return `(${parts.join(' OR ')})`;
    }
    case 'null': {
      const json = path(filter.field);
      return filter.negated ? `(${json} IS NOT NULL AND ${json} <> 'null'::jsonb)` : `(${json} IS NULL OR ${json} = 'null'::jsonb)`;
    }
  }
}
