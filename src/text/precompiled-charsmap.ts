/**
 * SentencePiece's compiled normalisation rules (`normalizer_spec.precompiled_charsmap`, copied
 * verbatim into tokenizer.json's `Precompiled` normalizer).
 *
 * Why our own reader: tokenizers.js ignores the charsmap and approximates it with NFKC plus a
 * hard-coded table, which differs from the rules the slow tokenizer applies. The blob is
 * `u32 LE trie size | darts-clone double-array trie over UTF-8 bytes | NUL-terminated
 * replacement strings`; each trie value is the byte offset of a replacement string.
 */

export interface PrefixRule {
  /** UTF-8 bytes of the input that the rule consumes. */
  readonly length: number;
  /** The replacement, as UTF-8 bytes (may be empty: the input is deleted). */
  readonly replacement: Uint8Array;
}

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly replacementCache = new Map<number, Uint8Array>();

  /** @throws Error when the blob is truncated or inconsistent (callers wrap it with the file name). */
  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new Error('precompiled_charsmap is shorter than its 4-byte header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || trieBytes === 0 || 4 + trieBytes > blob.length) {
      throw new Error(`precompiled_charsmap trie size ${trieBytes} does not fit the ${blob.length}-byte blob`);
    }
    const units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
    this.units = units;
    this.strings = blob.subarray(4 + trieBytes);
  }

  static fromBase64(b64: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(new Uint8Array(Buffer.from(b64, 'base64')));
  }

  /**
   * The longest rule whose key is a prefix of `bytes[start..]`, or undefined when none applies
   * (SentencePiece then copies one UTF-8 character unchanged).
   */
  longestPrefix(bytes: Uint8Array, start: number): PrefixRule | undefined {
    const units = this.units;
    let node = offsetOf(units[0]!);
    let bestLength = 0;
    let bestValue = 0;
    for (let i = start; i < bytes.length; i++) {
      const c = bytes[i]!;
      node ^= c;
      const unit = units[node];
      if (unit === undefined || labelOf(unit) !== c) break;
      node ^= offsetOf(unit);
      if (hasLeaf(unit)) {
        const leaf = units[node];
        if (leaf === undefined) break;
        bestLength = i - start + 1;
        bestValue = leaf & 0x7fffffff;
      }
    }
    if (bestLength === 0) return undefined;
    return { length: bestLength, replacement: this.replacementAt(bestValue) };
  }

  private replacementAt(offset: number): Uint8Array {
    let cached = this.replacementCache.get(offset);
    if (cached === undefined) {
      let end = offset;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      cached = this.strings.subarray(offset, end);
      this.replacementCache.set(offset, cached);
    }
    return cached;
  }
}

// darts-clone unit layout: bits 0-7 label, bit 8 has-leaf, bit 9 offset scale, bits 10-31 offset;
// a leaf unit stores its value in bits 0-30. A label with bit 31 set never equals a byte.
function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}

function labelOf(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & 0x200) >>> 6)) >>> 0;
}
