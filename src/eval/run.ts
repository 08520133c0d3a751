/**
 * One evaluation: the task's corpus goes into an index (content-keyed, so a re-run embeds only
 * what changed, and a bad item becomes a counted reject), the queries are embedded with the
 * encoder and searched exactly, and the rankings are scored.
 */
import type { EncodeResult } from '../encoder.js';
import type { IndexItem, Reject, SearchHit, SearchOptions } from '../index/types.js';
import { type MetricValues, type RankedQuery, rankByScore, scoreRankings } from './metrics.js';
import type { CorpusEntry, EvalQuery, EvalTask } from './task.js';

/** What the evaluation needs of an `Index`. */
export interface EvalIndex {
  add(
    items: AsyncIterable<IndexItem>,
    options?: { truncate?: boolean; onProgress?: (p: { done: number; rejected: number; total?: number }) => void },
  ): Promise<{ added: number; unchanged: number; rejects: readonly Reject[] }>;
  searchVector(vector: Float32Array, options?: SearchOptions): Promise<SearchHit[]>;
  stats(): Promise<{ readonly items: number }>;
}

/** What the evaluation needs of an `Encoder`. */
export interface EvalEncoder {
  encodeSettled(inputs: readonly { text?: string; image?: string; name?: string }[], options?: { truncate?: boolean }): Promise<EncodeResult[]>;
}

export type EvalProgress =
  | { readonly stage: 'corpus'; readonly done: number; readonly rejected: number; readonly total: number }
  | { readonly stage: 'queries'; readonly done: number; readonly failed: number; readonly total: number };

export interface EvaluateOptions {
  readonly encoder: EvalEncoder;
  readonly index: EvalIndex;
  /** Cutoffs to report (see `reportCutoffs`). */
  readonly cutoffs: readonly number[];
  readonly onProgress?: (p: EvalProgress) => void;
}

export interface SubsetOutcome {
  readonly subset: string;
  readonly metrics: MetricValues;
  readonly queries: number;
  readonly scored: number;
  readonly withoutRelevant: number;
  readonly failed: number;
}

export interface TaskOutcome {
  readonly subsets: readonly SubsetOutcome[];
  /** `rejects` lists the first rejects (the index keeps every one); `rejected` counts them all. */
  readonly corpus: { readonly items: number; readonly added: number; readonly unchanged: number; readonly rejected: number; readonly rejects: readonly Reject[] };
  readonly failedQueries: readonly { readonly id: string; readonly reason: string }[];
  /** Facts about this run's index that bear on the scores. */
  readonly notes: readonly string[];
}

/** Queries are embedded this many at a time: bounded memory for any query count. */
const QUERY_CHUNK = 256;

/** Texts longer than the model allows are cut, as the VISTA evaluation code does (max_length). */
const TRUNCATE = true;

/** Metadata keys the evaluation filters on: the subset whose queries may retrieve an item, and its id. */
const SUBSET_FIELD = 'subset';
const ID_FIELD = 'eval_id';

async function* indexItems(corpus: readonly CorpusEntry[], rejects: Reject[], withIds: boolean): AsyncGenerator<IndexItem> {
  for (const entry of corpus) {
    let image: string | Uint8Array | undefined;
    if (typeof entry.image === 'object') {
      try {
        image = await entry.image.load();
      } catch (err) {
        rejects.push({ source: entry.id, reason: err instanceof Error ? err.message : String(err) });
        continue;
      }
    } else image = entry.image;
    yield {
      id: entry.id,
      ...(entry.text !== undefined ? { text: entry.text } : {}),
      ...(image !== undefined ? { image } : {}),
      metadata: { ...(entry.subset !== undefined ? { [SUBSET_FIELD]: entry.subset } : {}), ...(withIds ? { [ID_FIELD]: entry.id } : {}) },
    };
  }
}

/** Single quotes doubled: the filter language's string literal. */
const quoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Puts the corpus into the index; rejects sorted by source, so that result files never vary. */
async function addCorpus(task: EvalTask, index: EvalIndex, onProgress: EvaluateOptions['onProgress']): Promise<TaskOutcome['corpus'] & { notes: string[] }> {
  const total = task.corpus.length;
  const readRejects: Reject[] = [];
  // CIRR's subset ranking filters on the item's id, so the id is also kept as metadata.
  const withIds = task.queries.some((q) => q.subsetCandidates !== undefined);
  let rejectedByIndex = 0;
  const added = await index.add(indexItems(task.corpus, readRejects, withIds), {
    truncate: TRUNCATE,
    onProgress: (p) => {
      rejectedByIndex = Math.max(rejectedByIndex, p.rejected);
      onProgress?.({ stage: 'corpus', done: p.done + readRejects.length, rejected: p.rejected + readRejects.length, total });
    },
  });
  // The index reports its first rejects only; the progress count has them all.
  const rejected = Math.max(rejectedByIndex, added.rejects.length) + readRejects.length;
  const notes: string[] = [];
  // An index reused from another corpus holds items this one lacks: they compete in every ranking.
  const extra = (await index.stats()).items - (total - rejected);
  if (extra > 0) notes.push(`the index holds ${extra} items that are not in this corpus; they take part in every ranking (use a fresh --output-dir or index for this corpus alone)`);
  const rejects = [...readRejects, ...added.rejects].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  return { items: total, added: added.added, unchanged: added.unchanged, rejected, rejects, notes };
}

export async function evaluateTask(task: EvalTask, options: EvaluateOptions): Promise<TaskOutcome> {
  const { encoder, index, cutoffs, onProgress } = options;
  const { notes, ...corpus } = await addCorpus(task, index, onProgress);

  // Which corpus ids each subset's queries may retrieve (and so count as relevant).
  const perSubsetCorpus = task.corpus.some((e) => e.subset !== undefined);
  const allIds = new Set(task.corpus.map((e) => e.id));
  const subsetIds = new Map<string, Set<string>>();
  if (perSubsetCorpus)
    for (const e of task.corpus) {
      if (e.subset === undefined) continue;
      let ids = subsetIds.get(e.subset);
      if (!ids) subsetIds.set(e.subset, (ids = new Set()));
      ids.add(e.id);
    }
  const depth = Math.max(...cutoffs);

  const ranked = new Map<string, RankedQuery[]>(task.subsets.map((s) => [s, []]));
  const failedQueries: { id: string; reason: string }[] = [];
  const failedPerSubset = new Map<string, number>();
  let done = 0;
  for (let start = 0; start < task.queries.length; start += QUERY_CHUNK) {
    const chunk = task.queries.slice(start, start + QUERY_CHUNK);
    const vectors = await encoder.encodeSettled(chunk.map(queryInput), { truncate: TRUNCATE });
    for (const [i, q] of chunk.entries()) {
      const v = vectors[i]!;
      done++;
      if (!v.ok) {
        failedQueries.push({ id: q.id, reason: v.error.message });
        failedPerSubset.set(q.subset, (failedPerSubset.get(q.subset) ?? 0) + 1);
      } else {
        const hits = await index.searchVector(v.embedding, {
          k: depth,
          ...(q.exclude ? { exclude: q.exclude } : {}),
          ...(perSubsetCorpus ? { where: `${SUBSET_FIELD} = ${quoted(q.subset)}` } : {}),
        });
        // The subset's own ranking: a search among its members only.
        const subsetHits =
          q.subsetCandidates && q.subsetCandidates.length > 0
            ? await index.searchVector(v.embedding, { k: q.subsetCandidates.length, where: `${ID_FIELD} IN (${q.subsetCandidates.map(quoted).join(', ')})` })
            : undefined;
        ranked.get(q.subset)?.push({
          ranking: rankByScore(hits).map((h) => h.id),
          relevance: q.relevance,
          ...(q.subsetCandidates ? { subsetCandidates: q.subsetCandidates } : {}),
          ...(subsetHits ? { subsetRanking: rankByScore(subsetHits).map((h) => h.id) } : {}),
        });
      }
    }
    onProgress?.({ stage: 'queries', done, failed: failedQueries.length, total: task.queries.length });
  }

  const subsets = task.subsets.map((subset): SubsetOutcome => {
    const ids = perSubsetCorpus ? (subsetIds.get(subset) ?? new Set<string>()) : allIds;
    const run = scoreRankings(ranked.get(subset) ?? [], (id) => ids.has(id), cutoffs);
    const failed = failedPerSubset.get(subset) ?? 0;
    return { subset, metrics: run.metrics, queries: (ranked.get(subset)?.length ?? 0) + failed, scored: run.scored, withoutRelevant: run.withoutRelevant, failed };
  });
  return { subsets, corpus, failedQueries, notes };
}

function queryInput(q: EvalQuery): { text?: string; image?: string; name: string } {
  return { name: `query ${q.id}`, ...(q.text !== undefined ? { text: q.text } : {}), ...(q.image !== undefined ? { image: q.image } : {}) };
}
