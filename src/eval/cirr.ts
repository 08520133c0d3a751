/**
 * CIRR as its authors publish it (github.com/Cuberick-Orion/CIRR, branch cirr_dataset):
 *
 *   captions/cap.rc2.{split}.json      [{pairid, reference, target_hard, target_soft, caption,
 *                                        img_set: {id, members[6], reference_rank, target_rank}}]
 *   image_splits/split.rc2.{split}.json {image name: "./dev/dev-244-0-img0.png", ...}
 *
 * The images are NLVR2's and are not part of the release: the split file's paths are relative to
 * the folder holding NLVR2's `train/`, `dev/` and `test1/` (the README calls it `img_raw/`).
 *
 * The benchmark's rules: the corpus is every image of the split; a query is the reference image
 * with the caption; the reference image is not a candidate; the target is `target_hard`;
 * Recall_subset@K ranks only the img_set members other than the reference. test1 has no public
 * targets (its scores come from the authors' server).
 *
 * `corpus: 'all'` searches every image of every split instead (train, val and test1: 21,551
 * images), as the VISTA paper's zero-shot table does; the task is then named `CIRR-all`.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { idOf, isFile, isFolder, isRecord, readJsonFile } from './files.js';
import { checkImages } from './images.js';
import type { CorpusEntry, EvalQuery, EvalTask } from './task.js';

const VERSION = 'rc2';

const captionsFile = (root: string, split: string): string => join(root, 'captions', `cap.${VERSION}.${split}.json`);
const splitFile = (root: string, split: string): string => join(root, 'image_splits', `split.${VERSION}.${split}.json`);

export function looksLikeCirr(root: string): boolean {
  return ['val', 'test1', 'train'].some((s) => isFile(captionsFile(root, s)) || isFile(splitFile(root, s)));
}

/** The folder the split file's paths are relative to. */
function imagesRoot(root: string, given: string | undefined): string {
  if (given !== undefined) {
    if (!isFolder(given)) throw new ConfigError(`--images ${given}: no such folder`);
    return given;
  }
  for (const candidate of [join(root, 'img_raw'), join(root, 'images'), root])
    if (['dev', 'test1', 'train'].some((s) => isFolder(join(candidate, s)))) return candidate;
  throw new ConfigError(
    `${root}: no CIRR images: expected NLVR2's images (its dev/, test1/, train/ folders) in ${join(root, 'img_raw')} ` +
      '(CIRR does not ship them; NLVR2 gives access on request); or name their folder with --images DIR',
  );
}

/** Every split with an image split file, for `corpus: 'all'`. */
function allSplits(root: string): string[] {
  const prefix = `split.${VERSION}.`;
  return readdirSync(join(root, 'image_splits'))
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => f.slice(prefix.length, -'.json'.length))
    .sort();
}

async function readImageSplit(root: string, split: string, images: string, paths: Map<string, string>): Promise<void> {
  const splitPath = splitFile(root, split);
  const mapping = await readJsonFile(splitPath, 'CIRR image split: {image name: relative path}');
  if (!isRecord(mapping)) throw new InputError(splitPath, 'must be a JSON object {image name: relative path}');
  for (const [name, rel] of Object.entries(mapping)) {
    if (typeof rel !== 'string') throw new InputError(splitPath, `the path of ${JSON.stringify(name)} must be a string`);
    paths.set(name, resolve(images, rel));
  }
}

export async function readCirr(root: string, options: { split?: string; images?: string; corpus?: 'split' | 'all' } = {}): Promise<EvalTask> {
  const split = options.split ?? 'val';
  for (const file of [captionsFile(root, split), splitFile(root, split)])
    if (!isFile(file)) throw new ConfigError(`${file}: no such file (CIRR ${VERSION}, --split ${split})`);
  const images = imagesRoot(root, options.images);
  const splitPath = splitFile(root, split);
  const paths = new Map<string, string>();
  await readImageSplit(root, split, images, paths);
  const queryImages = new Map(paths);
  const wholeCollection = options.corpus === 'all';
  if (wholeCollection) for (const other of allSplits(root)) if (other !== split) await readImageSplit(root, other, images, paths);
  const corpus: CorpusEntry[] = [...paths].map(([id, image]) => ({ id, image }));

  const capPath = captionsFile(root, split);
  const captions = await readJsonFile(capPath, 'CIRR captions: a list of {pairid, reference, target_hard, caption, img_set}');
  if (!Array.isArray(captions)) throw new InputError(capPath, 'must be a JSON list of query entries');
  const queries: EvalQuery[] = captions.map((entry: unknown, i) => {
    const where = `${capPath} entry ${i}`;
    if (!isRecord(entry)) throw new InputError(where, 'must be an object');
    const pairId = idOf(entry['pairid']);
    const reference = idOf(entry['reference']);
    const caption = entry['caption'];
    if (pairId === undefined || reference === undefined || typeof caption !== 'string') throw new InputError(where, 'needs "pairid", "reference" and "caption"');
    const target = idOf(entry['target_hard']);
    if (target === undefined)
      throw new ConfigError(`${capPath}: has no "target_hard" (CIRR's ${split} targets are not public; the authors' server scores that split): evaluate --split val`);
    const refPath = queryImages.get(reference);
    if (refPath === undefined) throw new InputError(where, `reference ${JSON.stringify(reference)} is not in ${splitPath}`);
    const set = entry['img_set'];
    const members = isRecord(set) && Array.isArray(set['members']) ? set['members'].map(idOf).filter((m): m is string => m !== undefined) : undefined;
    return {
      id: pairId,
      text: caption,
      image: refPath,
      relevance: new Map([[target, 1]]),
      subset: 'default',
      exclude: [reference],
      ...(members ? { subsetCandidates: members.filter((m) => m !== reference) } : {}),
    };
  });
  const notes = checkImages(corpus, images);
  return {
    name: wholeCollection ? 'CIRR-all' : 'CIRR',
    layout: 'cirr',
    split,
    languages: ['eng-Latn'],
    mainScore: 'recall_at_5',
    subsets: ['default'],
    averageSubsets: false,
    corpus,
    queries,
    source: root,
    notes,
  };
}
