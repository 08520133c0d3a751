/**
 * Retrieval metrics, with the definitions and names MTEB reports (MTEB computes them with
 * pytrec_eval, i.e. trec_eval's definitions):
 *
 * - `ndcg_at_k`: linear gains (the qrels score itself), log2 discount, ideal DCG from the query's
 *   judged items (graded relevance is honoured);
 * - `map_at_k`: precision at each relevant rank ≤ k, summed, divided by the number of relevant items;
 * - `recall_at_k`: relevant items in the top k / relevant items;
 * - `precision_at_k`: relevant items in the top k / k;
 * - `mrr_at_k`: 1 / rank of the first relevant item within k, else 0;
 * - `cv_recall_at_k` (MTEB's name for the hit rate, VISTA's "Easy_Recall"): 1 when any relevant
 *   item is in the top k.
 *
 * An item is relevant when its score is > 0. Queries none of whose relevant items is in the corpus
 * are excluded from the means and counted (the convention of the VISTA and BEIR evaluations).
 */

export interface ScoredId {
  readonly id: string;
  readonly score: number;
}

/** Graded relevance of corpus items for one query (corpus id → score; > 0 means relevant). */
export type Relevance = ReadonlyMap<string, number>;

export type MetricValues = Record<string, number>;

/** Cutoffs every run reports, whatever `--k` says: MTEB's headline metrics need 10 and 100. */
export const REQUIRED_CUTOFFS: readonly number[] = [10, 100];
export const DEFAULT_CUTOFFS: readonly number[] = [1, 3, 5, 10, 20, 50, 100];

/** The cutoffs to report: the requested ones plus the required ones, ascending, without repeats. */
export function reportCutoffs(requested: readonly number[] = DEFAULT_CUTOFFS): number[] {
  return [...new Set([...requested, ...REQUIRED_CUTOFFS])].sort((a, b) => a - b);
}

/** Ascending id order by UTF-16 code units: the order SearchHit ties use. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Best first; equal scores in ascending id order, so a ranking never depends on arrival order. */
export function rankByScore<T extends ScoredId>(hits: readonly T[]): T[] {
  return [...hits].sort((a, b) => b.score - a.score || compareIds(a.id, b.id));
}

/** Only the judgements that count: relevant (> 0) items that exist in the corpus. */
export function relevantInCorpus(relevance: Relevance, inCorpus: (id: string) => boolean): Map<string, number> {
  const kept = new Map<string, number>();
  for (const [id, score] of relevance) if (score > 0 && inCorpus(id)) kept.set(id, score);
  return kept;
}

/**
 * Every metric at every cutoff for one query. `ranking` is best first; `relevant` holds only
 * relevant items (score > 0) and must not be empty.
 */
export function queryMetrics(ranking: readonly string[], relevant: Relevance, cutoffs: readonly number[]): MetricValues {
  if (relevant.size === 0) throw new RangeError('queryMetrics: a query without relevant items cannot be scored');
  const values: MetricValues = {};
  const ideal = [...relevant.values()].sort((a, b) => b - a);
  for (const k of cutoffs) {
    let dcg = 0;
    let idcg = 0;
    let found = 0;
    let precisionSum = 0;
    let firstRank = 0;
    const depth = Math.min(k, ranking.length);
    const seen = new Set<string>();
    for (let i = 0; i < depth; i++) {
      const id = ranking[i] as string;
      if (seen.has(id)) continue; // a repeated id earns nothing twice
      seen.add(id);
      const gain = relevant.get(id) ?? 0;
      if (gain <= 0) continue;
      found++;
      dcg += gain / Math.log2(i + 2);
      precisionSum += found / (i + 1);
      if (firstRank === 0) firstRank = i + 1;
    }
    for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += (ideal[i] as number) / Math.log2(i + 2);
    values[`ndcg_at_${k}`] = dcg / idcg;
    values[`map_at_${k}`] = precisionSum / relevant.size;
    values[`recall_at_${k}`] = found / relevant.size;
    values[`precision_at_${k}`] = found / k;
    values[`mrr_at_${k}`] = firstRank === 0 ? 0 : 1 / firstRank;
    values[`cv_recall_at_${k}`] = found > 0 ? 1 : 0;
  }
  return values;
}

/**
 * CIRR's Recall_subset@K: is the target among the first K of the query's subset candidates
 * (the img_set members other than the reference), in the order of the full ranking? A
 * candidate absent from the ranking (not indexed: a rejected image) is never found.
 */
export function subsetRecall(ranking: readonly string[], candidates: readonly string[], target: string, cutoffs: readonly number[]): MetricValues {
  const members = new Set(candidates);
  const rank = ranking.filter((id) => members.has(id)).indexOf(target);
  const values: MetricValues = {};
  for (const k of cutoffs) values[`recall_subset_at_${k}`] = rank >= 0 && rank < k ? 1 : 0;
  return values;
}

/** The mean of each metric over queries, summed in query order (so the bits never vary). */
export function meanMetrics(perQuery: readonly MetricValues[]): MetricValues {
  if (perQuery.length === 0) return {};
  const sums: MetricValues = {};
  for (const values of perQuery) for (const [name, v] of Object.entries(values)) sums[name] = (sums[name] ?? 0) + v;
  const means: MetricValues = {};
  for (const [name, sum] of Object.entries(sums)) means[name] = sum / perQuery.length;
  return means;
}

/** One query's outcome, as the evaluation loop hands it over. */
export interface RankedQuery {
  /** Best first (the reference image of a CIRR query already removed). */
  readonly ranking: readonly string[];
  readonly relevance: Relevance;
  /** CIRR: the img_set members other than the reference, for Recall_subset@K. */
  readonly subsetCandidates?: readonly string[];
  /** CIRR: a ranking of the subset candidates alone (default: `ranking`, filtered to them). */
  readonly subsetRanking?: readonly string[];
}

export interface RunScores {
  /** Means over the scored queries. */
  readonly metrics: MetricValues;
  /** Queries that entered the means. */
  readonly scored: number;
  /** Queries left out because none of their relevant items is in the corpus. */
  readonly withoutRelevant: number;
}

/** CIRR's subset cutoffs (the benchmark reports Recall_subset@1, @2, @3). */
export const SUBSET_CUTOFFS: readonly number[] = [1, 2, 3];

/** Scores a run: per-query metrics averaged over the queries that have a relevant item in the corpus. */
export function scoreRankings(queries: readonly RankedQuery[], inCorpus: (id: string) => boolean, cutoffs: readonly number[]): RunScores {
  const perQuery: MetricValues[] = [];
  let withoutRelevant = 0;
  for (const q of queries) {
    const relevant = relevantInCorpus(q.relevance, inCorpus);
    if (relevant.size === 0) {
      withoutRelevant++;
      continue;
    }
    const values = queryMetrics(q.ranking, relevant, cutoffs);
    if (q.subsetCandidates) {
      // CIRR has one target per query: the best-graded relevant item.
      const target = [...relevant].sort((a, b) => b[1] - a[1] || compareIds(a[0], b[0]))[0]![0];
      Object.assign(values, subsetRecall(q.subsetRanking ?? q.ranking, q.subsetCandidates, target, SUBSET_CUTOFFS));
    }
    perQuery.push(values);
  }
  return { metrics: meanMetrics(perQuery), scored: perQuery.length, withoutRelevant };
}
