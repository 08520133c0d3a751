/**
 * Small synthetic data sets in each layout, written by the tests from the fixture images: the
 * native layouts exactly as their authors publish them, so the readers are tested on the real
 * formats without the real (large, licensed) data.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';

const image = (name: string): string => join(FIXTURES, 'images', name);
/** Bytes no decoder accepts, under an image name. */
const CORRUPT = Buffer.from('this is not an image at all, just text pretending to be a PNG file');

function writeJson(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

function writeLines(path: string, values: readonly unknown[]): void {
  writeFileSync(path, values.map((v) => JSON.stringify(v)).join('\n') + '\n');
}

/**
 * BEIR: images, a text, a composed item and a corrupt image in the corpus; text, image and
 * composed queries; graded qrels; one query whose only relevant item is not in the corpus, one
 * whose image is corrupt.
 */
export function writeBeir(root: string): void {
  mkdirSync(join(root, 'img'), { recursive: true });
  mkdirSync(join(root, 'qrels'), { recursive: true });
  for (const name of ['cir_candi_1.png', 'cir_candi_2.png', 'wiki_candi_1.jpg', 'wiki_candi_2.jpg', 'cir_query.png']) copyFileSync(image(name), join(root, 'img', name));
  writeFileSync(join(root, 'img', 'corrupt.png'), CORRUPT);
  writeLines(join(root, 'corpus.jsonl'), [
    { _id: 'd1', image: 'img/cir_candi_1.png' },
    { _id: 'd2', image: 'img/cir_candi_2.png' },
    { _id: 'd3', title: 'Dogs', text: 'A dog runs on the beach.' },
    { _id: 'd4', image: 'img/wiki_candi_1.jpg', text: 'Wikipedia picture' },
    { _id: 'd5', image: 'img/corrupt.png' },
    { _id: 'd6', text: 'An unrelated passage about trains.' },
  ]);
  writeLines(join(root, 'queries.jsonl'), [
    { _id: 'q1', text: 'a dog on the beach' },
    { _id: 'q2', image: 'img/wiki_candi_2.jpg' },
    { _id: 'q3', image: 'img/cir_query.png', text: 'make the dog white' },
    { _id: 'q4', text: 'a query whose answer is not in the corpus' },
    { _id: 'q5', text: 'not judged in this split' },
    { _id: 'q6', image: 'img/corrupt.png', text: 'a query whose image is corrupt' },
  ]);
  writeFileSync(
    join(root, 'qrels', 'test.tsv'),
    ['query-id\tcorpus-id\tscore', 'q1\td3\t2', 'q1\td4\t1', 'q2\td4\t1', 'q3\td1\t1', 'q3\td5\t1', 'q4\tnot-there\t1', 'q6\td2\t1'].join('\n') + '\n',
  );
}

/** CIRR rc2: six dev images under img_raw/, two queries with their img_sets; one train image. */
export function writeCirr(root: string): void {
  const names = ['cir_candi_1.png', 'cir_candi_2.png', 'cir_query.png', 'wiki_candi_1.jpg', 'wiki_candi_2.jpg', 'synth_baseline_q90.jpg'];
  const ids = names.map((_n, i) => `dev-${i}-0-img0`);
  mkdirSync(join(root, 'img_raw', 'dev'), { recursive: true });
  names.forEach((n, i) => copyFileSync(image(n), join(root, 'img_raw', 'dev', `${ids[i]}.png`)));
  writeJson(join(root, 'image_splits', 'split.rc2.val.json'), Object.fromEntries(ids.map((id) => [id, `./dev/${id}.png`])));
  // A training image, in NLVR2's numbered train subfolders: only in the VISTA-style whole-collection corpus.
  mkdirSync(join(root, 'img_raw', 'train', '34'), { recursive: true });
  copyFileSync(image('synth_tall_300x500.png'), join(root, 'img_raw', 'train', '34', 'train-11041-2-img0.png'));
  writeJson(join(root, 'image_splits', 'split.rc2.train.json'), { 'train-11041-2-img0': './train/34/train-11041-2-img0.png' });
  const members = [...ids];
  writeJson(join(root, 'captions', 'cap.rc2.val.json'), [
    {
      pairid: 101,
      reference: ids[2],
      target_hard: ids[0],
      target_soft: { [ids[0]!]: 1.0 },
      caption: 'make the dog white',
      img_set: { id: 1, members, reference_rank: 2, target_rank: 0 },
    },
    {
      pairid: 102,
      reference: ids[3],
      target_hard: ids[4],
      target_soft: { [ids[4]!]: 1.0 },
      caption: 'show another building',
      img_set: { id: 2, members, reference_rank: 3, target_rank: 4 },
    },
  ]);
}

/** FashionIQ: two categories with their own image splits, images/{ASIN}.png. */
export function writeFashionIq(root: string): void {
  const asins: Record<string, string[]> = { dress: ['B000DRESS1', 'B000DRESS2', 'B000DRESS3'], shirt: ['B000SHIRT1', 'B000SHIRT2', 'B000SHIRT3'] };
  const files = ['synth_baseline_q90.jpg', 'synth_progressive_q90.jpg', 'synth_small_50x40.png', 'cir_candi_1.png', 'wiki_candi_1.jpg', 'synth_grey_256x300.png'];
  mkdirSync(join(root, 'images'), { recursive: true });
  Object.values(asins)
    .flat()
    .forEach((asin, i) => copyFileSync(image(files[i]!), join(root, 'images', `${asin}.png`)));
  // A training split sharing one image with val: the whole-collection corpus holds it once.
  copyFileSync(image('synth_wide_640x257.png'), join(root, 'images', 'B000DRESS9.png'));
  writeJson(join(root, 'image_splits', 'split.dress.train.json'), ['B000DRESS9', 'B000DRESS1']);
  for (const [cat, list] of Object.entries(asins)) {
    writeJson(join(root, 'image_splits', `split.${cat}.val.json`), list);
    writeJson(join(root, 'captions', `cap.${cat}.val.json`), [
      { target: list[1], candidate: list[0], captions: ['is darker.', 'has longer sleeves'] },
      { target: list[2], candidate: list[1], captions: [' is Red?', 'is shorter'] },
    ]);
  }
}

/**
 * WebQA: questions of both splits with text and image facts, imgs.tsv with base64 lines and
 * imgs.lineidx offsets; image 30000002 is corrupt. A duplicated text fact and an image shown
 * with two captions exercise the VISTA deduplication.
 */
export function writeWebQa(root: string): void {
  mkdirSync(root, { recursive: true });
  const images: [number, Buffer][] = [
    [30000000, readFileSync(image('wiki_candi_1.jpg'))],
    [30000001, readFileSync(image('wiki_candi_2.jpg'))],
    [30000002, CORRUPT],
  ];
  let offset = 0;
  const lines: string[] = [];
  const offsets: number[] = [];
  for (const [id, bytes] of images) {
    const line = `${id}\t${bytes.toString('base64')}\n`;
    offsets.push(offset);
    offset += Buffer.byteLength(line);
    lines.push(line);
  }
  writeFileSync(join(root, 'imgs.tsv'), lines.join(''));
  writeFileSync(join(root, 'imgs.lineidx'), offsets.join('\n') + '\n');
  const txt = (snippet: string, fact: string) => ({ fact, snippet_id: snippet, title: 'T', url: 'https://example.org' });
  const img = (imageId: number, caption: string) => ({ image_id: imageId, title: 'T', caption, url: 'https://example.org', imgUrl: 'https://example.org/i.jpg' });
  writeJson(join(root, 'WebQA_train_val.json'), {
    g1: {
      Q: 'Which airport lies west of Belgrade?',
      A: ['Nikola Tesla'],
      Qcate: 'text',
      split: 'val',
      Guid: 'g1',
      txt_posFacts: [txt('s1', 'Belgrade Nikola Tesla Airport lies 18 km west of downtown Belgrade.')],
      txt_negFacts: [txt('s2', 'Saipan International Airport is a public airport.')],
      img_posFacts: [],
      img_negFacts: [img(30000001, 'A building in a city')],
    },
    g2: {
      Q: '"What colour is the roof of the building?"',
      A: ['Red'],
      Qcate: 'color',
      split: 'val',
      Guid: 'g2',
      txt_posFacts: [],
      txt_negFacts: [txt('s3', 'Saipan International Airport is a public airport.')],
      img_posFacts: [img(30000000, 'The building with a red roof')],
      img_negFacts: [img(30000002, 'A broken picture'), img(30000000, 'The same picture, another caption')],
    },
    g3: {
      Q: 'A training question',
      A: ['x'],
      Qcate: 'Others',
      split: 'train',
      Guid: 'g3',
      txt_posFacts: [txt('s4', 'Only in the training split.')],
      txt_negFacts: [],
      img_posFacts: [],
      img_negFacts: [],
    },
  });
}
