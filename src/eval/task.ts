/**
 * What every data set reader produces: an evaluation task in one shape, whatever the layout it
 * was read from. The runner knows nothing about layouts; the readers know nothing about indexes.
 */
import type { Relevance } from './metrics.js';

export type Layout = 'beir' | 'cirr' | 'fashioniq' | 'webqa';
export const LAYOUTS: readonly Layout[] = ['beir', 'cirr', 'fashioniq', 'webqa'];

/** Image bytes that live inside a bigger file (WebQA's imgs.tsv), read only when embedded. */
export interface LazyImage {
  /** How a failure names it, e.g. `imgs.tsv image 30013526`. */
  readonly describe: string;
  load(): Promise<Uint8Array>;
}

export interface CorpusEntry {
  readonly id: string;
  readonly text?: string;
  /** An absolute file path, or bytes read on demand. */
  readonly image?: string | LazyImage;
  /** The hf_subset whose queries may retrieve this item (FashionIQ: its category); undefined: every subset. */
  readonly subset?: string;
}

export interface EvalQuery {
  readonly id: string;
  readonly text?: string;
  /** An absolute file path. */
  readonly image?: string;
  readonly relevance: Relevance;
  /** The hf_subset it belongs to. */
  readonly subset: string;
  /** Corpus ids never returned for this query (CIRR: its reference image is not a candidate). */
  readonly exclude?: readonly string[];
  /** CIRR: the img_set members other than the reference, for Recall_subset@K. */
  readonly subsetCandidates?: readonly string[];
}

export interface EvalTask {
  /** MTEB's `task_name`, and the result file's name. */
  readonly name: string;
  readonly layout: Layout;
  readonly split: string;
  /** MTEB language codes, e.g. `eng-Latn`. */
  readonly languages: readonly string[];
  /** The metric that becomes `main_score`. */
  readonly mainScore: string;
  /** hf_subsets in report order. */
  readonly subsets: readonly string[];
  /** Report the mean over the subsets as one more entry, hf_subset "average" (FashionIQ's convention). */
  readonly averageSubsets: boolean;
  readonly corpus: readonly CorpusEntry[];
  readonly queries: readonly EvalQuery[];
  /** Where the data came from (the folder), for the result file. */
  readonly source: string;
  /** What the reader had to leave out (e.g. entries naming a missing image); each counted in the result. */
  readonly notes: readonly string[];
}
