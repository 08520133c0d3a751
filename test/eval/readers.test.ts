import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout, readDataset } from '../../src/eval/detect.js';
import { joinCaptions } from '../../src/eval/fashioniq.js';
import { writeBeir, writeCirr, writeFashionIq, writeWebQa } from './synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'vbge-eval-readers-'));
const folder = (name: string, write: (root: string) => void): string => {
  const root = join(tmp, name);
  write(root);
  return root;
};
const beir = folder('beir', writeBeir);
const cirr = folder('cirr', writeCirr);
const fiq = folder('fiq', writeFashionIq);
const webqa = folder('webqa', writeWebQa);

describe('layout detection', () => {
  it('recognises each layout', () => {
    expect([beir, cirr, fiq, webqa].map(detectLayout)).toEqual(['beir', 'cirr', 'fashioniq', 'webqa']);
  });

  it('refuses a folder that matches no layout, saying what each layout needs', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    expect(() => detectLayout(empty)).toThrow(/matches no data set layout: a BEIR folder has corpus\.jsonl, queries\.jsonl and qrels\/\{split\}\.tsv; CIRR has captions\/cap\.rc2/);
    expect(() => detectLayout(join(tmp, 'nope'))).toThrow(/no such folder/);
  });

  it('names what a partial BEIR folder lacks', async () => {
    const partial = join(tmp, 'partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'corpus.jsonl'), '{"_id":"a","text":"x"}\n');
    await expect(readDataset(partial)).rejects.toThrow(/missing queries\.jsonl, qrels\/\{split\}\.tsv/);
  });
});

describe('BEIR reader', () => {
  it('reads corpus, queries and graded qrels; joins title and text; resolves image paths', async () => {
    const task = await readDataset(beir);
    expect(task).toMatchObject({ name: 'beir', layout: 'beir', split: 'test', mainScore: 'ndcg_at_10' });
    expect(task.corpus.find((e) => e.id === 'd3')).toEqual({ id: 'd3', text: 'Dogs A dog runs on the beach.' });
    expect(task.corpus.find((e) => e.id === 'd1')?.image).toBe(join(beir, 'img', 'cir_candi_1.png'));
    // q5 has no judgements in this split: not evaluated.
    expect(task.queries.map((q) => q.id)).toEqual(['q1', 'q2', 'q3', 'q4', 'q6']);
    expect([...task.queries[0]!.relevance]).toEqual([['d3', 2], ['d4', 1]]);
  });

  it('names the file and line of a bad entry', async () => {
    const bad = join(tmp, 'bad-beir');
    writeBeir(bad);
    writeFileSync(join(bad, 'corpus.jsonl'), '{"_id":"a","text":"x"}\n{"text":"no id"}\n');
    await expect(readDataset(bad)).rejects.toThrow(/corpus\.jsonl:2: needs an "_id"/);
    writeFileSync(join(bad, 'corpus.jsonl'), '{"_id":"a","text":"x"}\n');
    writeFileSync(join(bad, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\ta\n');
    await expect(readDataset(bad)).rejects.toThrow(/test\.tsv:2: needs 3 tab-separated fields/);
    await expect(readDataset(bad, { split: 'dev' })).rejects.toThrow(/qrels\/dev\.tsv: no such file \(--split dev; splits here: test\)/);
  });
});

describe('CIRR reader', () => {
  it("follows the benchmark's rules: the reference is excluded, subsets are the other members", async () => {
    const task = await readDataset(cirr);
    expect(task).toMatchObject({ name: 'CIRR', split: 'val', mainScore: 'recall_at_5' });
    expect(task.corpus).toHaveLength(6);
    expect(task.corpus[0]!.image).toBe(join(cirr, 'img_raw', 'dev', 'dev-0-0-img0.png'));
    const q = task.queries[0]!;
    expect(q).toMatchObject({ id: '101', text: 'make the dog white', exclude: ['dev-2-0-img0'], image: join(cirr, 'img_raw', 'dev', 'dev-2-0-img0.png') });
    expect([...q.relevance.keys()]).toEqual(['dev-0-0-img0']);
    expect(q.subsetCandidates).toHaveLength(5);
    expect(q.subsetCandidates).not.toContain('dev-2-0-img0');
  });

  it("--corpus all searches every split's images, as the VISTA paper does", async () => {
    const task = await readDataset(cirr, { corpus: 'all' });
    expect(task.name).toBe('CIRR-all');
    expect(task.corpus).toHaveLength(7);
    expect(task.corpus.find((e) => e.id === 'train-11041-2-img0')?.image).toBe(join(cirr, 'img_raw', 'train', '34', 'train-11041-2-img0.png'));
    expect(task.queries).toHaveLength(2);
  });

  it('says where the images are expected when they are missing', async () => {
    const noImages = join(tmp, 'cirr-no-images');
    writeCirr(noImages);
    const { rmSync } = await import('node:fs');
    rmSync(join(noImages, 'img_raw'), { recursive: true });
    await expect(readDataset(noImages)).rejects.toThrow(/no CIRR images: expected NLVR2's images .* in .*img_raw .*--images DIR/);
  });
});

describe('FashionIQ reader', () => {
  it('joins the two captions as the common evaluation code does', () => {
    expect(joinCaptions('Is Darker.', 'has longer sleeves?')).toBe('Is darker and has longer sleeves');
    expect(joinCaptions(' is Red?', ', is shorter')).toBe('Is red and is shorter');
  });

  it('reads one subset per category, each with its own corpus', async () => {
    const task = await readDataset(fiq);
    expect(task).toMatchObject({ name: 'FashionIQ', subsets: ['dress', 'shirt'], averageSubsets: true });
    expect(task.corpus.filter((e) => e.subset === 'dress').map((e) => e.id)).toEqual(['dress/B000DRESS1', 'dress/B000DRESS2', 'dress/B000DRESS3']);
    const q = task.queries[0]!;
    expect(q).toMatchObject({ id: 'dress/0', text: 'Is darker and has longer sleeves', subset: 'dress', image: join(fiq, 'images', 'B000DRESS1.png') });
    expect(q.exclude).toBeUndefined(); // FashionIQ keeps the reference image a candidate
    expect([...q.relevance.keys()]).toEqual(['dress/B000DRESS2']);
  });

  it('--corpus all: one corpus of every image of every category and split', async () => {
    const task = await readDataset(fiq, { corpus: 'all' });
    expect(task.name).toBe('FashionIQ-all');
    expect(task.corpus.map((e) => e.id)).toEqual(['B000DRESS9', 'B000DRESS1', 'B000DRESS2', 'B000DRESS3', 'B000SHIRT1', 'B000SHIRT2', 'B000SHIRT3']);
    expect(task.corpus.every((e) => e.subset === undefined)).toBe(true);
    expect(task.subsets).toEqual(['dress', 'shirt']);
    expect([...task.queries[0]!.relevance.keys()]).toEqual(['B000DRESS2']);
    await expect(readDataset(beir, { corpus: 'all' })).rejects.toThrow(/--corpus all is for the native layouts/);
    expect((await readDataset(webqa, { corpus: 'all' })).name).toBe('WebQA');
  });
});

describe('WebQA reader', () => {
  it("builds VISTA's corpus: train and val candidates, texts deduplicated, images by (id, caption)", async () => {
    const task = await readDataset(webqa);
    expect(task).toMatchObject({ name: 'WebQA', split: 'val', mainScore: 'recall_at_5' });
    expect(task.corpus.map((e) => e.id)).toEqual(['snippet:s1', 'snippet:s2', 'image:30000001', 'image:30000000', 'image:30000002', 'image:30000000#2', 'snippet:s4']);
    expect(task.queries.map((q) => q.id)).toEqual(['g1', 'g2']);
    expect([...task.queries[1]!.relevance.keys()]).toEqual(['image:30000000']);
    const lazy = task.corpus.find((e) => e.id === 'image:30000000')!.image;
    if (typeof lazy !== 'object') throw new Error('expected an image read from imgs.tsv');
    const bytes = await lazy.load();
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8])); // the JPEG's own bytes
  });

  it('refuses the test split and says what images it needs', async () => {
    await expect(readDataset(webqa, { split: 'test' })).rejects.toThrow(/holds train and val/);
    const noImages = join(tmp, 'webqa-no-images');
    mkdirSync(noImages);
    writeFileSync(join(noImages, 'WebQA_train_val.json'), '{}');
    await expect(readDataset(noImages)).rejects.toThrow(/expected imgs\.tsv and imgs\.lineidx .* --images DIR/);
  });
});
