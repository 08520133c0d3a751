/**
 * The model's arithmetic, from the spec's cost model (§11: FLOPs = 2 × multiply-adds of the matrix
 * products; elementwise ops ignored), and what it means against the FMA peak of the run: the
 * share of the peak a measured time reaches, and the least time the work could take at the peak.
 * The latency targets are absolute times, set on a machine kind with a given peak; on another
 * kind these say how far they are from the physics of this one.
 */
import type { VisualizedVariant } from '../test/helpers/random-checkpoint.js';

/** Spec §11: vision tower + projection + BGE over 1 + N + 1 tokens. */
export const GFLOP_PER_IMAGE: Record<VisualizedVariant, number> = { base: 70.4, m3: 324.9 };

/** Spec §11: the BGE encoder over one text of `tokens` tokens (CLS and SEP included). */
export function textGflop(variant: VisualizedVariant, tokens: number): number {
  const [perToken, perPair] = variant === 'base' ? [169_869_312, 36_864] : [603_979_776, 98_304];
  return (perToken * tokens + perPair * tokens * tokens) / 1e9;
}

/** The share of `peakGflops` that `gflop` of work done in `seconds` reaches (null without a peak). */
export function shareOfPeak(gflop: number, seconds: number, peakGflops: number | null): number | null {
  return peakGflops === null || !(seconds > 0) ? null : gflop / seconds / peakGflops;
}

/** The least time `gflop` of work takes at `peakGflops`: every FMA unit busy, nothing else costing. */
export function secondsAtPeak(gflop: number, peakGflops: number | null): number | null {
  return peakGflops === null ? null : gflop / peakGflops;
}
