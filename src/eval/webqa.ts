/**
 * WebQA as its authors publish it (github.com/WebQnA/WebQA; data from the release's
 * WebQA_data_first_release):
 *
 *   WebQA_train_val.json  {guid: {Q, A[], Qcate, split: "train"|"val", Guid,
 *                          img_posFacts / img_negFacts: [{image_id, title, caption, url, imgUrl}],
 *                          txt_posFacts / txt_negFacts: [{fact, snippet_id, title, url}]}}
 *   imgs.tsv              one line per image: `image_id <TAB> base64 of the image file`
 *   imgs.lineidx          the byte offset of each imgs.tsv line; the line of image_id N is
 *                         offset number N % 10000000 (the convention of WebQA's own loaders)
 *
 * Instead of imgs.tsv, a folder of `{image_id}.jpg` files can be named with --images (the VISTA
 * evaluation reads images that way).
 *
 * The task follows the VISTA evaluation (JUNJIE99/VISTA_Evaluation_FineTuning, webqa/): the
 * corpus is every candidate of train and val, positive or negative; text candidates (`fact`) are
 * deduplicated by text, image candidates by (image_id, caption) and embedded as image + caption;
 * the queries are the split's questions (`Q`, text only); the relevant items are the question's
 * positive facts. VISTA's "Recall@5" is this task's `recall_at_5`; its "Easy_Recall" is
 * `cv_recall_at_5`.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { idOf, isFile, isFolder, isRecord, readLines, readObjectMembers } from './files.js';
import { checkImages } from './images.js';
import type { CorpusEntry, EvalQuery, EvalTask, LazyImage } from './task.js';

const DATA_FILE = 'WebQA_train_val.json';
/** WebQA's loaders seek to `lineidx[image_id % 10000000]`. */
const LINE_INDEX_MODULUS = 10_000_000;

export function looksLikeWebQa(root: string): boolean {
  return isFile(join(root, DATA_FILE));
}

type ImageSource = { kind: 'tsv'; tsv: string; offsets: number[] } | { kind: 'folder'; folder: string };

async function imageSource(root: string, given: string | undefined): Promise<ImageSource> {
  if (given !== undefined) {
    if (!isFolder(given)) throw new ConfigError(`--images ${given}: no such folder`);
    return { kind: 'folder', folder: given };
  }
  const tsv = join(root, 'imgs.tsv');
  const lineidx = join(root, 'imgs.lineidx');
  if (!isFile(tsv) || !isFile(lineidx))
    throw new ConfigError(
      `${root}: no WebQA images: expected imgs.tsv and imgs.lineidx (unpack the release's imgs.7z.001…), or a folder of {image_id}.jpg files given with --images DIR`,
    );
  const offsets: number[] = [];
  for await (const { line, text } of readLines(lineidx)) {
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new InputError(`${lineidx}:${line}`, 'must be a byte offset');
    offsets.push(n);
  }
  return { kind: 'tsv', tsv, offsets };
}

/** Reads one imgs.tsv line from `offset`, up to its newline, within the image file size limit. */
async function readTsvLine(path: string, offset: number, describe: string): Promise<string> {
  const limit = Math.ceil((LIMITS.maxImageFileBytes * 4) / 3) + 64;
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let read = 0;
    for (;;) {
      const chunk = Buffer.alloc(256 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset + read);
      if (bytesRead === 0) break;
      const newline = chunk.subarray(0, bytesRead).indexOf(0x0a);
      chunks.push(chunk.subarray(0, newline >= 0 ? newline : bytesRead));
      read += bytesRead;
      if (newline >= 0) break;
      if (read > limit) throw new InputError(describe, `line is longer than ${limit} bytes (the image file size limit is ${LIMITS.maxImageFileBytes})`);
    }
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    await handle.close();
  }
}

function lazyTsvImage(source: { tsv: string; offsets: number[] }, imageId: string): LazyImage {
  const describe = `imgs.tsv image ${imageId}`;
  return {
    describe,
    async load() {
      const offset = source.offsets[Number(imageId) % LINE_INDEX_MODULUS];
      if (offset === undefined) throw new InputError(describe, `imgs.lineidx has ${source.offsets.length} lines and none for this id`);
      const line = await readTsvLine(source.tsv, offset, describe);
      const tab = line.indexOf('\t');
      if (tab < 0 || line.slice(0, tab).trim() !== imageId)
        throw new InputError(describe, `the imgs.tsv line at offset ${offset} holds image ${JSON.stringify(line.slice(0, Math.max(0, Math.min(tab, 20))))}, not this one`);
      return Buffer.from(line.slice(tab + 1).trim(), 'base64');
    },
  };
}

interface Facts {
  text: Map<string, string>; // fact text → corpus id
  image: Map<string, string>; // image_id + caption → corpus id
  captionsPerImage: Map<string, number>;
  corpus: CorpusEntry[];
}

function factList(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** Adds a fact to the deduplicated corpus (first occurrence wins) and returns its corpus id. */
function addFact(facts: Facts, fact: Record<string, unknown>, kind: 'txt' | 'img', source: ImageSource, where: string): string {
  if (kind === 'txt') {
    const text = fact['fact'];
    const snippet = idOf(fact['snippet_id']);
    if (typeof text !== 'string' || snippet === undefined) throw new InputError(where, 'a text fact needs "fact" and "snippet_id"');
    let id = facts.text.get(text);
    if (id === undefined) {
      id = `snippet:${snippet}`;
      facts.text.set(text, id);
      facts.corpus.push({ id, text });
    }
    return id;
  }
  const imageId = idOf(fact['image_id']);
  const caption = fact['caption'];
  if (imageId === undefined || typeof caption !== 'string') throw new InputError(where, 'an image fact needs "image_id" and "caption"');
  const key = `${imageId}\u0000${caption}`;
  let id = facts.image.get(key);
  if (id === undefined) {
    // The same image with another caption is another candidate (VISTA keeps both).
    const seen = facts.captionsPerImage.get(imageId) ?? 0;
    facts.captionsPerImage.set(imageId, seen + 1);
    id = seen === 0 ? `image:${imageId}` : `image:${imageId}#${seen + 1}`;
    facts.image.set(key, id);
    const image = source.kind === 'tsv' ? lazyTsvImage(source, imageId) : join(source.folder, `${imageId}.jpg`);
    facts.corpus.push({ id, text: caption, image });
  }
  return id;
}

export async function readWebQa(root: string, options: { split?: string; images?: string } = {}): Promise<EvalTask> {
  const split = options.split ?? 'val';
  if (split !== 'val' && split !== 'train') throw new ConfigError(`--split ${split}: WebQA_train_val.json holds train and val (the test split has no public positives)`);
  const dataPath = join(root, DATA_FILE);
  const source = await imageSource(root, options.images);
  const facts: Facts = { text: new Map(), image: new Map(), captionsPerImage: new Map(), corpus: [] };
  const queries: EvalQuery[] = [];
  // Streamed question by question: the release's file is too large for one JSON.parse.
  for await (const [guid, q] of readObjectMembers(dataPath, 'WebQA questions: {guid: {Q, split, img_posFacts, txt_posFacts, ...}}')) {
    const where = `${dataPath} question ${guid}`;
    if (!isRecord(q)) throw new InputError(where, 'must be an object');
    const positives = new Map<string, number>();
    for (const kind of ['txt', 'img'] as const) {
      for (const fact of factList(q[`${kind}_posFacts`])) positives.set(addFact(facts, fact, kind, source, where), 1);
      for (const fact of factList(q[`${kind}_negFacts`])) addFact(facts, fact, kind, source, where);
    }
    if (q['split'] !== split) continue;
    const question = q['Q'];
    if (typeof question !== 'string' || question.trim() === '') throw new InputError(where, 'needs a question "Q"');
    queries.push({ id: guid, text: question, relevance: positives, subset: 'default' });
  }
  const notes = source.kind === 'folder' ? checkImages(facts.corpus, source.folder) : [];
  return {
    name: 'WebQA',
    layout: 'webqa',
    split,
    languages: ['eng-Latn'],
    mainScore: 'recall_at_5',
    subsets: ['default'],
    averageSubsets: false,
    corpus: facts.corpus,
    queries,
    source: root,
    notes,
  };
}
