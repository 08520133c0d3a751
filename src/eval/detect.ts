/** `vbge eval PATH`: which layout a folder is in, and reading it. */
import { ConfigError } from '../errors.js';
import { looksLikeBeir, readBeir } from './beir.js';
import { looksLikeCirr, readCirr } from './cirr.js';
import { looksLikeFashionIq, readFashionIq } from './fashioniq.js';
import { isFolder } from './files.js';
import { type EvalTask, type Layout, LAYOUTS } from './task.js';
import { looksLikeWebQa, readWebQa } from './webqa.js';

export interface ReadOptions {
  /** Force a layout instead of detecting it. */
  readonly layout?: Layout;
  readonly split?: string;
  /** Where a native layout's images are, when not in the usual place. */
  readonly images?: string;
  /** CIRR and FashionIQ: search the split's images (the benchmark) or every image (the VISTA paper). */
  readonly corpus?: 'split' | 'all';
}

const DETECTORS: readonly [Layout, (root: string) => boolean][] = [
  ['beir', looksLikeBeir],
  ['cirr', looksLikeCirr],
  ['fashioniq', looksLikeFashionIq],
  ['webqa', looksLikeWebQa],
];

/** What each layout needs, for the error when a folder matches none. */
const EXPECTED =
  'a BEIR folder has corpus.jsonl, queries.jsonl and qrels/{split}.tsv; CIRR has captions/cap.rc2.{split}.json and image_splits/split.rc2.{split}.json; ' +
  'FashionIQ has captions/cap.{dress,shirt,toptee}.{split}.json and image_splits/split.{category}.{split}.json; WebQA has WebQA_train_val.json with imgs.tsv and imgs.lineidx';

export function isLayout(value: string): value is Layout {
  return (LAYOUTS as readonly string[]).includes(value);
}

export function detectLayout(root: string): Layout {
  if (!isFolder(root)) throw new ConfigError(`${root}: no such folder (a data set folder)`);
  const matches = DETECTORS.filter(([, looks]) => looks(root)).map(([layout]) => layout);
  if (matches.length === 0) throw new ConfigError(`${root}: matches no data set layout: ${EXPECTED}`);
  if (matches.length > 1) throw new ConfigError(`${root}: matches several layouts (${matches.join(', ')}): choose one with --layout`);
  return matches[0]!;
}

export async function readDataset(root: string, options: ReadOptions = {}): Promise<EvalTask> {
  const layout = options.layout ?? detectLayout(root);
  if (!isFolder(root)) throw new ConfigError(`${root}: no such folder (a data set folder)`);
  const o = { ...(options.split !== undefined ? { split: options.split } : {}), ...(options.images !== undefined ? { images: options.images } : {}) };
  const corpus = options.corpus !== undefined ? { corpus: options.corpus } : {};
  // WebQA's corpus is always the whole collection (every train and val candidate), so `all` fits it.
  if (options.corpus === 'all' && layout === 'beir') throw new ConfigError('--corpus all is for the native layouts; a BEIR corpus is what corpus.jsonl holds');
  switch (layout) {
    case 'beir':
      if (options.images !== undefined) throw new ConfigError('--images is for the native layouts; BEIR image paths are relative to the data set folder');
      return readBeir(root, o);
    case 'cirr':
      return readCirr(root, { ...o, ...corpus });
    case 'fashioniq':
      return readFashionIq(root, { ...o, ...corpus });
    case 'webqa':
      return readWebQa(root, o);
  }
}
