import { CheckpointError } from '../errors.js';
import { toFloat32 } from './convert.js';
import type { F32Tensor, StoredTensor } from './tensor.js';

/**
 * The tensors of a checkpoint under the checkpoint's own key names, with scoped views so that
 * model code reads like the module tree: `w.scope('blocks.0').scope('attn').get('q_bias')`.
 * Every lookup failure names the file and the full key.
 */
export class WeightMap {
  private constructor(
    private readonly tensors: ReadonlyMap<string, StoredTensor>,
    /** The file (or folder) the tensors came from, for error messages. */
    readonly source: string,
    private readonly prefix: string,
  ) {}

  static fromTensors(tensors: ReadonlyMap<string, StoredTensor>, source: string): WeightMap {
    return new WeightMap(tensors, source, '');
  }

  /** A view of the keys under `name.` (nested scopes join with dots). */
  scope(name: string): WeightMap {
    return new WeightMap(this.tensors, this.source, this.key(name) + '.');
  }

  /** The full checkpoint key of `name` in this scope. */
  key(name: string): string {
    return this.prefix + name;
  }

  has(name: string): boolean {
    return this.tensors.has(this.key(name));
  }

  /** Keys of the whole checkpoint (not only this scope), in file order. */
  allKeys(): string[] {
    return [...this.tensors.keys()];
  }

  stored(name: string): StoredTensor {
    const key = this.key(name);
    const t = this.tensors.get(key);
    if (!t) throw new CheckpointError(this.source, `missing tensor "${key}"`);
    return t;
  }

  shape(name: string): readonly number[] {
    return this.stored(name).shape;
  }

  /**
   * The tensor widened to float32. With `shape`, the stored shape must match exactly; a `-1`
   * entry accepts any size in that dimension.
   */
  get(name: string, shape?: readonly number[]): F32Tensor {
    const t = this.stored(name);
    if (shape) this.checkShape(name, t.shape, shape);
    let bytes: Uint8Array;
    try {
      bytes = t.read();
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw new CheckpointError(this.source, `cannot read tensor "${this.key(name)}": ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { shape: t.shape, data: toFloat32(t.dtype, bytes) };
  }

  private checkShape(name: string, actual: readonly number[], expected: readonly number[]): void {
    const ok = actual.length === expected.length && expected.every((d, i) => d === -1 || d === actual[i]);
    if (!ok) {
      throw new CheckpointError(
        this.source,
        `tensor "${this.key(name)}" has shape [${actual.join(', ')}], expected [${expected
          .map((d) => (d === -1 ? '*' : String(d)))
          .join(', ')}]`,
      );
    }
  }
}
