/** formatFloat32: the shortest decimal that reads back (double → float32) as the same float32. */
import { describe, expect, test } from 'vitest';
import { formatFloat32 } from '../../src/cli/float-format.js';
import { prng } from '../../src/util/prng.js';

const f32 = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;
const readBack = (s: string): number => Math.fround(Number(s));

describe('formatFloat32', () => {
  test.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [Math.fround(0.1), '0.1'],
    [Math.fround(1 / 3), '0.33333334'],
    [f32(0x7f7fffff), '3.4028235e+38'], // largest finite float32
    [f32(0x00800000), '1.1754944e-38'], // smallest normal
    [f32(0x00000001), '1e-45'], // smallest subnormal
    [f32(0x807fffff), '-1.1754942e-38'], // largest subnormal, negative
    [f32(0x00000003), '4e-45'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('%d → %s', (x, text) => {
    expect(formatFloat32(x)).toBe(text);
    if (Number.isFinite(x)) expect(Object.is(readBack(text), x)).toBe(true);
  });

  test('every float32 pattern of a seeded sample reads back exactly, and no shorter decimal would', () => {
    const rand = prng(1234);
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = f32(Math.floor(rand() * 2 ** 32));
      if (!Number.isFinite(x)) continue;
      const s = formatFloat32(x);
      expect(Object.is(readBack(s), x)).toBe(true);
      const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
      if (digits > 1) expect(Object.is(readBack(x.toPrecision(digits - 1)), x)).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(19_000);
  });
});
