/**
 * Exact search over a float32 matrix held in WebAssembly memory: one SIMD inner-product pass
 * (dot-scan.wat) per query, then a top-k selection. Vectors are L2-normalised, so the inner product
 * is the cosine. Every score is computed in one fixed order that depends only on the dimension, so
 * the same pair scores the same bits in an exact scan, when re-scoring ANN or Postgres candidates,
 * in any process — rankings are reproducible, and ties are broken by id.
 */
import { DOT_SCAN_WASM_BASE64 } from './dot-scan-wasm.js';

interface DotScanKernel {
  memory: WebAssembly.Memory;
  dotScan(query: number, rows: number, count: number, stride: number, out: number): void;
}

let compiled: WebAssembly.Module | undefined;

function kernel(): DotScanKernel {
  compiled ??= new WebAssembly.Module(Buffer.from(DOT_SCAN_WASM_BASE64, 'base64'));
  return new WebAssembly.Instance(compiled).exports as unknown as DotScanKernel;
}

/** Floats per stored vector in the kernel's memory: the dimension rounded up to 16 (zero padding). */
export function strideOf(dim: number): number {
  return Math.ceil(dim / 16) * 16;
}

/** Rows per block: each block is one wasm instance of at most this many bytes (wasm32 memory is ≤ 4 GiB). */
const BLOCK_BYTES = 512 * 1024 * 1024;
const PAGE = 65536;

/** A block of rows in one kernel instance: [query | scores | rows]. */
class Block {
  private readonly kernel = kernel();
  private count = 0;
  private readonly queryAt = 0;
  private readonly scoresAt: number;
  private readonly rowsAt: number;

  constructor(
    private readonly stride: number,
    readonly capacity: number,
  ) {
    this.scoresAt = stride * 4;
    this.rowsAt = align(this.scoresAt + capacity * 4, 64);
    this.ensure(this.rowsAt);
  }

  get size(): number {
    return this.count;
  }

  private ensure(bytes: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (have < bytes) this.kernel.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Appends rows (each `dim` floats, zero-padded to the stride). */
  append(vectors: Float32Array, dim: number, n: number): void {
    this.ensure(this.rowsAt + (this.count + n) * this.stride * 4);
    const rows = new Float32Array(this.kernel.memory.buffer, this.rowsAt + this.count * this.stride * 4, n * this.stride);
    if (dim === this.stride) rows.set(vectors.subarray(0, n * dim));
    else for (let r = 0; r < n; r++) rows.set(vectors.subarray(r * dim, (r + 1) * dim), r * this.stride);
    this.count += n;
  }

  /** Scores of every row in this block against `query` (already padded), written into `out`. */
  scan(query: Float32Array, out: Float32Array): void {
    new Float32Array(this.kernel.memory.buffer, this.queryAt, this.stride).set(query);
    this.kernel.dotScan(this.queryAt, this.rowsAt, this.count, this.stride, this.scoresAt);
    out.set(new Float32Array(this.kernel.memory.buffer, this.scoresAt, this.count));
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** An append-only matrix of vectors with exact inner-product scans. */
export class VectorMatrix {
  private readonly blocks: Block[] = [];
  private readonly stride: number;
  private readonly blockRows: number;
  private rows = 0;

  constructor(readonly dim: number) {
    this.stride = strideOf(dim);
    this.blockRows = Math.max(1, Math.floor(BLOCK_BYTES / (this.stride * 4)) - 1);
  }

  get size(): number {
    return this.rows;
  }

  /** Appends `vectors.length / dim` rows. */
  append(vectors: Float32Array): void {
    const n = vectors.length / this.dim;
    if (!Number.isInteger(n)) throw new Error(`vectors of ${vectors.length} floats are not rows of ${this.dim}`);
    let done = 0;
    while (done < n) {
      let block = this.blocks[this.blocks.length - 1];
      if (!block || block.size === block.capacity) {
        block = new Block(this.stride, this.blockRows);
        this.blocks.push(block);
      }
      const take = Math.min(n - done, block.capacity - block.size);
      block.append(vectors.subarray(done * this.dim), this.dim, take);
      done += take;
    }
    this.rows += n;
  }

  /** The score of every row against `query`, in row order. */
  scores(query: Float32Array): Float32Array {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values; the index stores ${this.dim}`);
    const padded = new Float32Array(this.stride);
    padded.set(query);
    const out = new Float32Array(this.rows);
    let at = 0;
    for (const block of this.blocks) {
      block.scan(padded, out.subarray(at, at + block.size));
      at += block.size;
    }
    return out;
  }
}

/** Scores of a few vectors against a query, bit-identical to what `VectorMatrix.scores` gives them. */
export function scoreVectors(query: Float32Array, vectors: readonly Float32Array[]): Float32Array {
  const matrix = new VectorMatrix(query.length);
  const flat = new Float32Array(vectors.length * query.length);
  vectors.forEach((v, i) => flat.set(v, i * query.length));
  matrix.append(flat);
  return matrix.scores(query);
}

export interface Ranked {
  /** Row number (or candidate number) of the hit. */
  readonly row: number;
  readonly score: number;
}

/**
 * The best `limit` rows by score (descending), ties by id (ascending); `accept` filters rows
 * before ranking. A bounded heap: O(n log limit).
 */
export function topK(scores: Float32Array, ids: readonly string[], limit: number, accept?: (row: number) => boolean): Ranked[] {
  if (limit <= 0) return [];
  // worse(a, b): a ranks below b.
  const worse = (a: number, b: number): boolean => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa !== sb) return sa < sb || Number.isNaN(sa);
    return ids[a]! > ids[b]!;
  };
  const heap: number[] = []; // a min-heap on rank: heap[0] is the worst kept row
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let row = 0; row < scores.length; row++) {
    if (accept && !accept(row)) continue;
    if (heap.length < limit) {
      heap.push(row);
      up(heap.length - 1);
    } else if (worse(heap[0]!, row)) {
      heap[0] = row;
      down(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0)).map((row) => ({ row, score: scores[row]! }));
}
