import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { decodeImage } from '../../src/image/decode.js';
import { applyOrientation } from '../../src/image/orient.js';
import { convertToRgb } from '../../src/image/preprocess.js';
import { REAL } from './real/goldens.js';

/**
 * Differential test against Pillow 9.4 on mutated copies of the real-world samples (BMP, PNM, JPEG
 * headers, TIFF directories), recorded by real/record-mutations.py: where Pillow refuses a file we
 * refuse it too, and where it decodes one we give its exact pixels or refuse with an InputError;
 * never different pixels.
 */
interface Case {
  base: string;
  edits: [number, number, string][];
  pillow: { mode?: string; size?: [number, number]; rgb_sha256?: string; error?: string };
}
const { cases } = JSON.parse(readFileSync(join(REAL, 'mutations.json'), 'utf8')) as { cases: Case[] };

function mutated(c: Case): Uint8Array {
  let data = Buffer.from(readFileSync(join(REAL, c.base)));
  for (const [at, remove, insert] of c.edits) {
    data = Buffer.concat([data.subarray(0, at), Buffer.from(insert, 'hex'), data.subarray(at + remove)]);
  }
  return new Uint8Array(data);
}

/** Pillow's view after load: TIFF orientation applied, then convert('RGB'). */
async function ours(bytes: Uint8Array, name: string): Promise<string> {
  const d = await decodeImage(bytes, { inputName: name, maxPixels: 50_000_000, maxFileBytes: 64 * 1024 * 1024 });
  const upright = applyOrientation(d, d.orientationOnLoad);
  const rgb = convertToRgb(upright, d.mode);
  return `${d.mode === 'RGB' ? 'RGB' : d.mode} ${upright.width}×${upright.height} ${createHash('sha256').update(rgb).digest('hex')}`;
}

/** Pillow modes we hold under another name with the same RGB conversion. */
const SAME_MODE: Record<string, string> = { RGBX: 'RGB' };

describe('mutated samples: Pillow 9.4 and we agree, or we refuse (test/image/real/mutations.json)', () => {
  const byBase = new Map<string, Case[]>();
  for (const c of cases) byBase.set(c.base, [...(byBase.get(c.base) ?? []), c]);

  it('has cases for BMP, PNM, JPEG and TIFF', () => {
    for (const ext of ['.bmp', '.pbm', '.pgm', '.ppm', '.jpg', '.tif']) expect([...byBase.keys()].some((b) => b.endsWith(ext))).toBe(true);
    expect(cases.length).toBeGreaterThan(1000);
  });

  for (const [base, group] of byBase) {
    it(`${base}: ${group.length} mutations`, async () => {
      const problems: string[] = [];
      let refusedByUsOnly = 0;
      for (const [k, c] of group.entries()) {
        const name = `${base} mutation ${k} ${JSON.stringify(c.edits)}`;
        let result: string;
        try {
          result = await ours(mutated(c), name);
        } catch (err) {
          if (!(err instanceof InputError)) problems.push(`${name}: not an InputError: ${String(err)}`);
          if (!c.pillow.error) refusedByUsOnly++;
          continue;
        }
        const p = c.pillow;
        if (p.error) problems.push(`${name}: Pillow refuses it (${p.error}) but we decode it`);
        else if (result !== `${SAME_MODE[p.mode!] ?? p.mode} ${p.size![0]}×${p.size![1]} ${p.rgb_sha256}`) problems.push(`${name}: pixels differ from Pillow's`);
      }
      expect(problems).toEqual([]);
      // Refusing what Pillow decodes is allowed (a clear error, never a silent difference), but only
      // for damaged headers: at most half of the group.
      expect(refusedByUsOnly).toBeLessThanOrEqual(group.length / 2);
    });
  }
});
