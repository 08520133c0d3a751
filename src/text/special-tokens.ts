/**
 * The slow tokenizers' handling of special-token strings inside user text (spec §8, quirk Q19):
 * transformers first cuts the text at every literal special token ("[SEP]", "<mask>", …, matched
 * case-sensitively, leftmost and longest first); each such match becomes that token's id and only
 * the text between matches is tokenised.
 */

export interface SpecialToken {
  readonly content: string;
  readonly id: number;
  /** Whitespace to the left of the token is removed (XLM-R's `<mask>`). */
  readonly lstrip: boolean;
  /** Whitespace to the right of the token is removed. */
  readonly rstrip: boolean;
}

export type Segment = { readonly special: SpecialToken } | { readonly text: string };

/** Python's `str.isspace()` characters, for `lstrip`/`rstrip` (Python's `str.strip`). */
const PY_SPACE = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const TRAILING_SPACE = new RegExp(`${PY_SPACE}+$`, 'u');
const LEADING_SPACE = new RegExp(`^${PY_SPACE}+`, 'u');

export class SpecialTokenMatcher {
  private readonly byFirstChar = new Map<string, SpecialToken[]>();

  constructor(tokens: readonly SpecialToken[]) {
    for (const token of tokens) {
      if (token.content.length === 0) continue;
      const first = token.content[0]!;
      const list = this.byFirstChar.get(first) ?? [];
      list.push(token);
      // Longest first, so the first hit is the longest match at a position.
      list.sort((a, b) => b.content.length - a.content.length);
      this.byFirstChar.set(first, list);
    }
  }

  /** The longest special token starting at `text[pos]`, if any. */
  matchAt(text: string, pos: number): SpecialToken | undefined {
    const candidates = this.byFirstChar.get(text[pos]!);
    if (candidates === undefined) return undefined;
    return candidates.find((t) => text.startsWith(t.content, pos));
  }

  /** `text` cut at every special token: each chunk with the token that ends it (the last chunk has none). */
  private cut(text: string): { chunk: string; token?: SpecialToken }[] {
    const parts: { chunk: string; token?: SpecialToken }[] = [];
    let chunkStart = 0;
    let pos = 0;
    while (pos < text.length) {
      const token = this.matchAt(text, pos);
      if (token === undefined) {
        pos++;
        continue;
      }
      parts.push({ chunk: text.slice(chunkStart, pos), token });
      pos += token.content.length;
      chunkStart = pos;
    }
    parts.push({ chunk: text.slice(chunkStart) });
    return parts;
  }

  /** Cuts `text` into special tokens and the (possibly empty-free) text between them. */
  split(text: string): Segment[] {
    const segments: Segment[] = [];
    for (const { chunk, token } of this.cut(text)) {
      if (chunk.length > 0) segments.push({ text: chunk });
      if (token) segments.push({ special: token });
    }

    // lstrip/rstrip eat the whitespace of the neighbouring text chunks.
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (!('special' in seg)) continue;
      const left = segments[i - 1];
      const right = segments[i + 1];
      if (seg.special.lstrip && left !== undefined && 'text' in left) {
        segments[i - 1] = { text: left.text.replace(TRAILING_SPACE, '') };
      }
      if (seg.special.rstrip && right !== undefined && 'text' in right) {
        segments[i + 1] = { text: right.text.replace(LEADING_SPACE, '') };
      }
    }
    return segments.filter((s) => !('text' in s) || s.text.length > 0);
  }

  /** Applies `transform` to the text between special tokens and keeps the tokens as they are. */
  mapOutside(text: string, transform: (outside: string) => string): string {
    return this.cut(text)
      .map(({ chunk, token }) => transform(chunk) + (token?.content ?? ''))
      .join('');
  }
}
