/**
 * FashionIQ as its authors publish it (github.com/XiaoxiaoGuo/fashion-iq):
 *
 *   captions/cap.{dress,shirt,toptee}.{split}.json   [{candidate, target, captions: [two strings]}]
 *   image_splits/split.{dress,shirt,toptee}.{split}.json   [ASIN, ...]
 *
 * Images are named by ASIN. The starter kit reads `resized_images/{category}/{ASIN}.jpg`; the
 * widely used CLIP4Cir layout has `images/{ASIN}.png`; both are looked for, or `--images DIR`.
 *
 * The benchmark's rules: each category is its own task, its corpus the category's image split; the
 * query is the candidate image with both captions; the reference image stays a candidate;
 * Recall@10 and @50 per category and their mean. The test split has no public targets.
 *
 * `corpus: 'all'` searches one corpus of every image of every category and split instead (74,381
 * images), as the VISTA paper's zero-shot table does; the task is then named `FashionIQ-all`.
 *
 * The two captions are joined the way the common evaluation code does (CLIP4Cir's
 * `generate_fiq_val_predictions`, followed by the zero-shot CIR papers):
 * `c0.strip('.?, ').capitalize() + " and " + c1.strip('.?, ')` (Python's capitalize also
 * lower-cases the rest). The starter kit joined the two token lists with an `<and>` token.
 */
import { join } from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { idOf, isFile, isFolder, isRecord, readJsonFile } from './files.js';
import { checkImages } from './images.js';
import type { CorpusEntry, EvalQuery, EvalTask } from './task.js';

export const CATEGORIES = ['dress', 'shirt', 'toptee'] as const;
const EXTENSIONS = ['.png', '.jpg', '.jpeg'];

const captionsFile = (root: string, cat: string, split: string): string => join(root, 'captions', `cap.${cat}.${split}.json`);
const splitFile = (root: string, cat: string, split: string): string => join(root, 'image_splits', `split.${cat}.${split}.json`);

export function looksLikeFashionIq(root: string): boolean {
  return CATEGORIES.some((c) => ['val', 'train', 'test'].some((s) => isFile(captionsFile(root, c, s))));
}

/** Python's `str.strip(chars)`. */
function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Python's `str.capitalize()`: the first character upper-cased, the rest lower-cased. */
function capitalize(s: string): string {
  const [first = '', ...rest] = [...s];
  return first.toUpperCase() + rest.join('').toLowerCase();
}

export function joinCaptions(first: string, second: string): string {
  return `${capitalize(stripChars(first, '.?, '))} and ${stripChars(second, '.?, ')}`;
}

/** Finds an ASIN's image file among the usual folders and extensions; remembers what worked. */
class ImageFinder {
  private lastHit: { folder: number; ext: string } | undefined;
  constructor(private readonly folders: (cat: string) => string[]) {}

  path(cat: string, asin: string): string {
    const folders = this.folders(cat);
    if (this.lastHit) {
      const p = join(folders[this.lastHit.folder]!, asin + this.lastHit.ext);
      if (isFile(p)) return p;
    }
    for (const [folder, dir] of folders.entries())
      for (const ext of EXTENSIONS) {
        const p = join(dir, asin + ext);
        if (isFile(p)) {
          this.lastHit = { folder, ext };
          return p;
        }
      }
    // Not found: the index rejects it, naming the path it was expected at.
    return join(folders[this.lastHit?.folder ?? 0]!, asin + (this.lastHit?.ext ?? EXTENSIONS[0]!));
  }
}

/** The folders an ASIN's image may be in, for a category: the folder itself and its category subfolder. */
function imageFolders(root: string, given: string | undefined): (cat: string) => string[] {
  if (given !== undefined) {
    if (!isFolder(given)) throw new ConfigError(`--images ${given}: no such folder`);
    return (cat) => [given, join(given, cat)];
  }
  const present = [join(root, 'images'), join(root, 'resized_images')].filter(isFolder);
  if (present.length === 0)
    throw new ConfigError(
      `${root}: no FashionIQ images: expected ${join(root, 'images')}/{ASIN}.png or ${join(root, 'resized_images')}/{category}/{ASIN}.jpg ` +
        '(FashionIQ publishes image URLs only); or name the folder with --images DIR',
    );
  return (cat) => present.flatMap((d) => [d, join(d, cat)]);
}

async function readStringList(path: string, role: string): Promise<string[]> {
  const value = await readJsonFile(path, role);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new InputError(path, `must be a JSON list of ASIN strings (${role})`);
  return value as string[];
}

export async function readFashionIq(root: string, options: { split?: string; images?: string; corpus?: 'split' | 'all' } = {}): Promise<EvalTask> {
  const split = options.split ?? 'val';
  const categories = CATEGORIES.filter((c) => isFile(captionsFile(root, c, split)));
  if (categories.length === 0)
    throw new ConfigError(`${root}: no FashionIQ captions for --split ${split}: expected captions/cap.{${CATEGORIES.join(',')}}.${split}.json`);
  for (const cat of categories) if (!isFile(splitFile(root, cat, split))) throw new ConfigError(`${splitFile(root, cat, split)}: no such file (FashionIQ ${cat}, --split ${split})`);
  const folders = imageFolders(root, options.images);
  const finder = new ImageFinder(folders);
  const wholeCollection = options.corpus === 'all';
  // One corpus for all categories: ids are plain ASINs; else each category's own, ids category/ASIN.
  const corpusId = (cat: string, asin: string): string => (wholeCollection ? asin : `${cat}/${asin}`);
  const corpus: CorpusEntry[] = [];
  const queries: EvalQuery[] = [];
  if (wholeCollection) {
    const seen = new Set<string>();
    for (const cat of CATEGORIES)
      for (const s of ['train', 'val', 'test']) {
        if (!isFile(splitFile(root, cat, s))) continue;
        for (const asin of await readStringList(splitFile(root, cat, s), `FashionIQ ${cat} image split`))
          if (!seen.has(asin)) {
            seen.add(asin);
            corpus.push({ id: asin, image: finder.path(cat, asin) });
          }
      }
  }
  for (const cat of categories) {
    if (!wholeCollection)
      for (const asin of await readStringList(splitFile(root, cat, split), `FashionIQ ${cat} image split`))
        corpus.push({ id: corpusId(cat, asin), image: finder.path(cat, asin), subset: cat });
    const capPath = captionsFile(root, cat, split);
    const entries = await readJsonFile(capPath, 'FashionIQ captions: a list of {candidate, target, captions}');
    if (!Array.isArray(entries)) throw new InputError(capPath, 'must be a JSON list of {candidate, target, captions}');
    entries.forEach((entry: unknown, i) => {
      const where = `${capPath} entry ${i}`;
      if (!isRecord(entry)) throw new InputError(where, 'must be an object');
      const candidate = idOf(entry['candidate']);
      const captions = entry['captions'];
      if (candidate === undefined || !Array.isArray(captions) || captions.length !== 2 || !captions.every((c) => typeof c === 'string'))
        throw new InputError(where, 'needs "candidate" and "captions" (two strings)');
      const target = idOf(entry['target']);
      if (target === undefined) throw new ConfigError(`${capPath}: has no "target" (FashionIQ's ${split} targets are not public): evaluate --split val`);
      queries.push({
        id: `${cat}/${i}`,
        text: joinCaptions(captions[0] as string, captions[1] as string),
        image: finder.path(cat, candidate),
        relevance: new Map([[corpusId(cat, target), 1]]),
        subset: cat,
      });
    });
  }
  const notes = checkImages(corpus, options.images ?? root);
  return {
    name: wholeCollection ? 'FashionIQ-all' : 'FashionIQ',
    layout: 'fashioniq',
    split,
    languages: ['eng-Latn'],
    mainScore: 'recall_at_10',
    subsets: categories,
    averageSubsets: true,
    corpus,
    queries,
    source: root,
    notes,
  };
}
