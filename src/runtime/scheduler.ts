/**
 * Batch planning that cannot change any item's result. Every batch holds inputs of exactly the
 * same shape, so no item is ever padded: an item's numbers are computed from the same values
 * with the same shapes whether it runs alone or beside others. (ONNX Runtime's CPU kernels are
 * additionally row-invariant, which the determinism tests check on the real graphs.)
 */

export interface TextWorkItem {
  /** Index of the input in the caller's list. */
  readonly index: number;
  readonly tokenCount: number;
  readonly withImage: boolean;
}

/** Splits `indices` into consecutive chunks of at most `batchSize`. */
export function chunk<T>(items: readonly T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}

/** Images all have the same shape: any grouping is padding-free. */
export function planVisionBatches(indices: readonly number[], batchSize: number): number[][] {
  return chunk(indices, batchSize);
}

/**
 * Groups text-tower work by exact sequence shape (image or not, token count), keeping input
 * order inside each group, then chunks each group by `batchSize`.
 */
export function planTextBatches(items: readonly TextWorkItem[], batchSize: number): TextWorkItem[][] {
  const groups = new Map<string, TextWorkItem[]>();
  for (const item of items) {
    const key = `${item.withImage ? 'mm' : 'text'}:${item.tokenCount}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(item);
  }
  const batches: TextWorkItem[][] = [];
  for (const group of groups.values()) batches.push(...chunk(group, batchSize));
  return batches;
}
