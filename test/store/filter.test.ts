import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { filterToSql, matchesFilter, parseFilter } from '../../src/store/filter.js';

const ROWS: Record<string, unknown>[] = [
  { year: 2019, kind: 'photo', rating: 4, tags: ['a'], camera: { make: 'Leica' }, flag: true },
  { year: 2020, kind: 'scan', rating: 2, camera: { make: 'Canon' }, flag: false },
  { year: 2021, kind: 'photo', rating: null },
  { year: '2022', kind: 'Photo', rating: 5.5 },
  { kind: "it's", rating: -1, flag: true },
  {},
];

const EXPRESSIONS = [
  'year >= 2020',
  'year < 2021 AND kind = \'photo\'',
  "kind IN ('photo', 'scan')",
  "kind NOT IN ('photo')",
  'NOT (year = 2019 OR rating < 3)',
  'rating IS NULL',
  'rating IS NOT NULL',
  "camera.make = 'Leica'",
  "kind = 'it''s'",
  'flag = true',
  'flag != false',
  "kind > 'Photo'",
  'rating <> 4',
  'year = 2022',
  "year = '2022'",
  '(year >= 2019) and not flag = true',
];

describe('--where filters', () => {
  test('parse and evaluate with typed comparisons', () => {
    const ids = (expr: string): number[] => ROWS.flatMap((r, i) => (matchesFilter(parseFilter(expr), r) ? [i] : []));
    expect(ids('year >= 2020')).toEqual([1, 2]); // "2022" is a string: never ≥ a number
    expect(ids("year = '2022'")).toEqual([3]);
    expect(ids("kind IN ('photo', 'scan')")).toEqual([0, 1, 2]);
    expect(ids("kind NOT IN ('photo')")).toEqual([1, 3, 4, 5]);
    expect(ids('rating IS NULL')).toEqual([2, 5]);
    expect(ids("camera.make = 'Leica'")).toEqual([0]);
    expect(ids("kind = 'it''s'")).toEqual([4]);
    expect(ids('NOT (year = 2019 OR rating < 3)')).toEqual([2, 3, 5]);
  });

  test.each([
    ['', /empty filter/],
    ["kind = 'photo", /unterminated string at position 8/],
    ['year >> 3', /expected a value .* at position 7/],
    ['year', /expected a comparison/],
    ['year = 1 AND', /expected a metadata field name at position 13/],
    ['year = 1 extra', /unexpected text at position 10/],
    ['kind IN ()', /expected a value/],
    ['a = 1 ; DROP TABLE x', /unexpected character ";"/],
  ])('refuses %j naming the position', (expr, message) => {
    expect(() => parseFilter(expr)).toThrow(message);
  });

  test('refuses an over-long filter', () => {
    expect(() => parseFilter(`a = ${'1'.repeat(5000)}`)).toThrow(/is 5004 characters long; the limit is 4096/);
  });

  describe('as SQL in Postgres', () => {
    let db: PGlite;
    beforeAll(async () => {
      db = await PGlite.create();
      await db.exec('CREATE TABLE t (i int, metadata jsonb)');
      for (const [i, r] of ROWS.entries()) await db.query('INSERT INTO t VALUES ($1, $2::jsonb)', [i, JSON.stringify(r)]);
    });
    afterAll(async () => {
      await db.close();
    });

    test.each(EXPRESSIONS)('%s selects the same rows as in process', async (expr) => {
      const filter = parseFilter(expr);
      const params: unknown[] = [];
      const where = filterToSql(filter, 'metadata', params);
      const rows = await db.query<{ i: number }>(`SELECT i FROM t WHERE ${where} ORDER BY i`, params);
      const expected = ROWS.flatMap((r, i) => (matchesFilter(filter, r) ? [i] : []));
      expect(rows.rows.map((r) => r.i)).toEqual(expected);
    });
  });
});
