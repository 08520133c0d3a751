/**
 * Ranking over any `VectorStore`, with one meaning on every store: scores are our own exact inner
 * products (exact-scan.ts), ties go to the smaller id, filters follow filter.ts, excluded ids never
 * appear. Exact search scans an in-memory copy of the embedded store (refreshed when the store's
 * revision changes) or asks Postgres for candidates; ANN asks the store's index for candidates and
 * re-scores them, widening the request until enough pass the filter, else searching exactly.
 */
import { type Filter, matchesFilter } from './filter.js';
import { VectorMatrix, scoreVectors, topK } from './exact-scan.js';
import type { StoredRecord, VectorStore } from './types.js';

export interface RankedRecord {
  readonly record: Omit<StoredRecord, 'vector'>;
  readonly score: number;
}

export interface RankOptions {
  readonly k: number;
  readonly offset: number;
  readonly filter?: Filter;
  readonly exclude: readonly string[];
  readonly ann: boolean;
}

/** Extra candidates asked of Postgres beyond those returned: its float sums may order near-ties differently from ours. */
const EXACT_MARGIN = 32;

interface ScanCache {
  revision: string;
  matrix: VectorMatrix;
  infos: Omit<StoredRecord, 'vector'>[];
  ids: string[];
}

export class Searcher {
  private cache?: ScanCache;
  private loading?: Promise<ScanCache>;

  constructor(
    private readonly store: VectorStore,
    private readonly dim: number,
  ) {}

  async search(query: Float32Array, options: RankOptions): Promise<RankedRecord[]> {
    const want = options.k + options.offset;
    if (want === 0) return [];
    let ranked: RankedRecord[] | undefined;
    if (options.ann) ranked = await this.annSearch(query, want, options);
    ranked ??= await this.exactSearch(query, want, options);
    return ranked.slice(options.offset, want);
  }

  private async exactSearch(query: Float32Array, want: number, options: RankOptions): Promise<RankedRecord[]> {
    if (this.store.exactCandidates) {
      const candidates = await this.store.exactCandidates(query, want + EXACT_MARGIN, options.filter, options.exclude);
      return rankCandidates(query, candidates, want, options);
    }
    const cache = await this.scanCache();
    const excluded = new Set(options.exclude);
    const scores = cache.matrix.scores(query);
    const accept = (row: number): boolean => {
      const info = cache.infos[row]!;
      return !excluded.has(info.id) && (!options.filter || matchesFilter(options.filter, info.metadata));
    };
    return topK(scores, cache.ids, want, accept).map(({ row, score }) => ({ record: cache.infos[row]!, score }));
  }

  /** Undefined when the store has no ANN index (or too few candidates pass): the caller searches exactly. */
  private async annSearch(query: Float32Array, want: number, options: RankOptions): Promise<RankedRecord[] | undefined> {
    let total: number | undefined;
    // Unfiltered, the ANN index is asked for exactly what is wanted (its refine step already
    // re-ranks a multiple of that); a filter or exclusions start with room to spare.
    const first = options.filter || options.exclude.length > 0 ? Math.max(2 * want, 20) : want;
    for (let limit = first; ; limit *= 4) {
      const candidates = await this.store.annCandidates(query, limit, options.filter, options.exclude);
      if (!candidates) return undefined;
      const ranked = rankCandidates(query, candidates, want, options);
      if (ranked.length >= want) return ranked;
      // Too few passed the filter (or the index holds fewer): widen, and at the end scan exactly.
      total ??= await this.store.count();
      if (limit >= total) return undefined;
    }
  }

  /** The in-memory copy of the store, reloaded when the store has changed since. */
  private async scanCache(): Promise<ScanCache> {
    const revision = await this.store.revision();
    if (this.cache?.revision === revision) return this.cache;
    if (!this.loading) {
      this.loading = this.load(revision).finally(() => (this.loading = undefined));
    }
    this.cache = await this.loading;
    return this.cache;
  }

  private async load(revision: string): Promise<ScanCache> {
    const matrix = new VectorMatrix(this.dim);
    const infos: Omit<StoredRecord, 'vector'>[] = [];
    for await (const batch of this.store.scan()) {
      const flat = new Float32Array(batch.length * this.dim);
      batch.forEach((r, i) => {
        flat.set(r.vector, i * this.dim);
        const { vector: _vector, ...info } = r;
        infos.push(info);
      });
      matrix.append(flat);
    }
    return { revision, matrix, infos, ids: infos.map((i) => i.id) };
  }

  /** Drops the in-memory copy (after this process changed the store). */
  invalidate(): void {
    this.cache = undefined;
  }
}

/** Candidates re-scored with our kernel, filtered, ranked by score then id. */
function rankCandidates(query: Float32Array, candidates: readonly StoredRecord[], want: number, options: RankOptions): RankedRecord[] {
  const excluded = new Set(options.exclude);
  const kept = candidates.filter((c) => !excluded.has(c.id) && (!options.filter || matchesFilter(options.filter, c.metadata)));
  const scores = scoreVectors(query, kept.map((c) => c.vector));
  return topK(scores, kept.map((c) => c.id), want).map(({ row, score }) => {
    const { vector: _vector, ...record } = kept[row]!;
    return { record, score };
  });
}
