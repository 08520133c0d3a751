/**
 * The normaliser of the slow XLM-R tokenizer: SentencePiece's `Normalizer::Normalize` with the
 * XLM-R / bge-m3 model's settings (charsmap rules, `remove_extra_whitespaces`,
 * `add_dummy_prefix`, `escape_whitespaces`, all true).
 *
 * Why not the tokenizer.json pipeline: its `Replace(' {2,}', ' ')` + `Metaspace` keep a trailing
 * space (an extra final "▁", fixture case text-09) and only collapse runs of U+0020 that exist
 * *before* the charsmap's spaces are merged; SentencePiece works on the output of each rule.
 */
import { PrecompiledCharsmap } from './precompiled-charsmap.js';

const SPACE = 0x20;
/** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space, in UTF-8. */
const META = [0xe2, 0x96, 0x81] as const;

export class SentencePieceNormalizer {
  constructor(private readonly charsmap: PrecompiledCharsmap | null) {}

  /** `text` must be well-formed Unicode (no unpaired surrogates); callers check that. */
  normalize(text: string): string {
    if (text.length === 0) return '';
    const input = Buffer.from(text, 'utf8');
    let pos = 0;

    // Leading input that normalises to exactly one space is dropped.
    while (pos < input.length) {
      const [rep, len] = this.prefix(input, pos);
      if (!(rep.length === 1 && rep[0] === SPACE)) break;
      pos += len;
    }
    if (pos >= input.length) return '';

    const out: number[] = [...META];
    let prevSpace = true;
    while (pos < input.length) {
      const rule = this.charsmap?.longestPrefix(input, pos);
      if (rule === undefined) {
        // No rule: one character copied as it is (the common case, kept allocation-free).
        const len = utf8Length(input[pos]!);
        if (input[pos] === SPACE) {
          if (!prevSpace) out.push(META[0], META[1], META[2]);
          prevSpace = true;
        } else {
          for (let k = 0; k < len; k++) out.push(input[pos + k]!);
          prevSpace = false;
        }
        pos += len;
        continue;
      }
      const rep = rule.replacement;
      let k = 0;
      if (prevSpace) while (k < rep.length && rep[k] === SPACE) k++;
      if (k < rep.length) {
        for (; k < rep.length; k++) {
          const b = rep[k]!;
          if (b === SPACE) out.push(META[0], META[1], META[2]);
          else out.push(b);
        }
        prevSpace = rep[rep.length - 1] === SPACE;
      }
      pos += rule.length;
    }
    // Trailing visible spaces are dropped (the dummy prefix too, when nothing else is left).
    while (
      out.length >= 3 &&
      out[out.length - 3] === META[0] &&
      out[out.length - 2] === META[1] &&
      out[out.length - 1] === META[2]
    ) {
      out.length -= 3;
    }
    return Buffer.from(out).toString('utf8');
  }

  /** The replacement of the longest rule at `pos`, or the one UTF-8 character there unchanged. */
  private prefix(input: Uint8Array, pos: number): [Uint8Array, number] {
    const rule = this.charsmap?.longestPrefix(input, pos);
    if (rule !== undefined) return [rule.replacement, rule.length];
    const len = utf8Length(input[pos]!);
    return [input.subarray(pos, pos + len), len];
  }
}

function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  return 2;
}
