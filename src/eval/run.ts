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
  ): Promise<{ added: number; unchanged: number; rejects: Reject[] }>;
  searchVector(vector: Float32Array, options?: SearchOptions): Promise<SearchHit[]>;
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
  readonly corpus: { readonly items: number; readonly added: number; readonly unchanged: number; readonly rejects: readonly Reject[] };
  readonly failedQueries: readonly { readonly id: string; readonly reason: string }[];
}

/** Queries are embedded this many at a time: bounded memory for any query count. */
const QUERY_CHUNK = 256;

/** Texts longer than the model allows are cut, as the VISTA evaluation code does (max_length). */
const TRUNCATE = true;

const SUBSET_FIELD = 'subset';

async function* indexItems(corpus: readonly CorpusEntry[], rejects: Reject[]): AsyncGenerator<IndexItem> {
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
      ...(entry.subset !== undefined ? { metadata: { [SUBSET_FIELD]: entry.subset } } : {}),
    };
  }
}

/** Single quotes doubled: the filter language's string literal. */
const quoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function evaluateTask(task: EvalTask, options: EvaluateOptions): Promise<TaskOutcome> {
  const { encoder, index, cutoffs, onProgress } = options;
  const total = task.corpus.length;
  const readRejects: Reject[] = [];
  const added = await index.add(indexItems(task.corpus, readRejects), {
    truncate: TRUNCATE,
    onProgress: (p) => onProgress?.({ stage: 'corpus', done: p.done, rejected: p.rejected + readRejects.length, total }),
  });
  const rejects = [...readRejects, ...added.rejects].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));

  // Which corpus ids each subset's queries may retrieve (and so count as relevant).
  const perSubsetCorpus = task.corpus.some((e) => e.subset !== undefined);
  const allIds = new Set(task.corpus.map((e) => e.id));
  const subsetIds = new Map<string, Set<string>>();
  if (perSubsetCorpus) for (const e of task.corpus) if (e.subset !== undefined) (subsetIds.get(e.subset) ?? subsetIds.set(e.subset, new Set()).get(e.subset)!).add(e.id);
  const depthFor = (subset: string): number => (task.rankWholeCorpus ? (perSubsetCorpus ? (subsetIds.get(subset)?.size ?? 0) : allIds.size) : Math.max(...cutoffs));

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
          k: Math.max(1, depthFor(q.subset)),
          ...(q.exclude ? { exclude: q.exclude } : {}),
          ...(perSubsetCorpus ? { where: `${SUBSET_FIELD} = ${quoted(q.subset)}` } : {}),
        });
        ranked.get(q.subset)?.push({
          ranking: rankByScore(hits).map((h) => h.id),
          relevance: q.relevance,
          ...(q.subsetCandidates ? { subsetCandidates: q.subsetCandidates } : {}),
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
  return { subsets, corpus: { items: total, added: added.added, unchanged: added.unchanged, rejects }, failedQueries };
}

function queryInput(q: EvalQuery): { text?: string; image?: string; name: string } {
  return { name: `query ${q.id}`, ...(q.text !== undefined ? { text: q.text } : {}), ...(q.image !== undefined ? { image: q.image } : {}) };
}
