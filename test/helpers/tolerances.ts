/**
 * Tolerances against the upstream golden fixtures, stated once (design.md, "Numerics").
 * Token ids and preprocessed uint8 pixels compare exactly; determinism compares bytes.
 */
export const TOL = {
  /** max |Δ| per element of an L2-normalised embedding. */
  embedding: 1e-6,
  /**
   * max |Δ| per element of an intermediate tensor, relative to max(1, max |value|) of that tensor.
   * 2e-6, not 1e-6: upstream's own float32 rounding is that large. Its patch-embedding conv is one
   * FMA chain over the 768 (ky, kx, c) terms — reproduced bit for bit by emulation in scratch —
   * and sits up to 3.8e-6 (7.7e-7 relative) from the exact value; any kernel that sums in
   * another order (MLAS blocks K) lands ~1e-6 relative away, and the text layers of the image
   * path inherit it. Measured worst: 1.21e-6 (tiny-xlmr vision.patch_embed); embeddings stay
   * ≤ 1.8e-7 absolute.
   */
  intermediateRelative: 2e-6,
} as const;

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** The bound an intermediate tensor must meet: TOL.intermediateRelative × max(1, max |expected|). */
export function intermediateBound(expected: ArrayLike<number>): number {
  return TOL.intermediateRelative * Math.max(1, maxAbs(expected));
}
