/**
 * The BEIR layout (what MTEB's retrieval tasks use), with images:
 *
 *   corpus.jsonl     {"_id", "title"?, "text"?, "image"?}   image: a path relative to the folder
 *   queries.jsonl    {"_id", "text"?, "image"?}             both text and image: a composed item
 *   qrels/{split}.tsv  header `query-id  corpus-id  score`, graded relevance allowed
 *
 * As in MTEB, a title is joined to the text with one space, and only queries with judgements
 * in the split are evaluated.
 */
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { idOf, isFile, isFolder, isRecord, optionalString, readLines } from './files.js';
import type { CorpusEntry, EvalQuery, EvalTask } from './task.js';

export function looksLikeBeir(root: string): boolean {
  return isFile(join(root, 'corpus.jsonl')) || isFile(join(root, 'queries.jsonl'));
}

/** What a BEIR folder lacks, or nothing. */
export function beirMissing(root: string): string[] {
  const missing: string[] = [];
  if (!isFile(join(root, 'corpus.jsonl'))) missing.push('corpus.jsonl');
  if (!isFile(join(root, 'queries.jsonl'))) missing.push('queries.jsonl');
  if (qrelsSplits(root).length === 0) missing.push('qrels/{split}.tsv');
  return missing;
}

function qrelsSplits(root: string): string[] {
  const dir = join(root, 'qrels');
  if (!isFolder(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .map((f) => f.slice(0, -'.tsv'.length))
    .sort();
}

/** `test` as MTEB does, else the only split there is. */
function chooseSplit(root: string, requested: string | undefined): string {
  const splits = qrelsSplits(root);
  if (requested !== undefined) {
    if (!splits.includes(requested)) throw new ConfigError(`${join(root, 'qrels', `${requested}.tsv`)}: no such file (--split ${requested}; splits here: ${splits.join(', ') || 'none'})`);
    return requested;
  }
  if (splits.includes('test')) return 'test';
  if (splits.length === 1) return splits[0]!;
  throw new ConfigError(`${join(root, 'qrels')}: several splits (${splits.join(', ')}) and none is "test": choose one with --split`);
}

interface Entry {
  id: string;
  text?: string;
  image?: string;
}

async function readEntries(root: string, file: string, joinTitle: boolean): Promise<Entry[]> {
  const path = join(root, file);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for await (const { line, text } of readLines(path)) {
    const where = `${path}:${line}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InputError(where, 'not valid JSON');
    }
    if (!isRecord(value)) throw new InputError(where, 'must be a JSON object');
    const id = idOf(value['_id']);
    if (id === undefined) throw new InputError(where, 'needs an "_id" (a non-empty string or a number)');
    if (seen.has(id)) throw new InputError(where, `"_id" ${JSON.stringify(id)} appears twice`);
    seen.add(id);
    const title = joinTitle ? optionalString(value['title'], where, 'title') : undefined;
    const body = optionalString(value['text'], where, 'text');
    const image = optionalString(value['image'], where, 'image');
    const joined = title ? `${title} ${body ?? ''}`.trim() : body;
    if (!joined && !image) throw new InputError(where, 'has nothing to embed: give "text" (or "title") and/or "image"');
    entries.push({ id, ...(joined ? { text: joined } : {}), ...(image ? { image: resolve(root, image) } : {}) });
  }
  return entries;
}

async function readQrels(path: string): Promise<Map<string, Map<string, number>>> {
  const qrels = new Map<string, Map<string, number>>();
  for await (const { line, text } of readLines(path)) {
    const fields = text.split('\t').map((f) => f.trim());
    if (line === 1 && fields[0] === 'query-id') continue;
    const where = `${path}:${line}`;
    if (fields.length !== 3) throw new InputError(where, `needs 3 tab-separated fields (query-id, corpus-id, score); found ${fields.length}`);
    const [queryId, corpusId, scoreText] = fields as [string, string, string];
    const score = Number(scoreText);
    if (!queryId || !corpusId || scoreText === '' || !Number.isFinite(score)) throw new InputError(where, 'needs a query id, a corpus id and a numeric score');
    let judged = qrels.get(queryId);
    if (!judged) qrels.set(queryId, (judged = new Map()));
    judged.set(corpusId, score);
  }
  return qrels;
}

export async function readBeir(root: string, options: { split?: string } = {}): Promise<EvalTask> {
  const missing = beirMissing(root);
  if (missing.length > 0) throw new ConfigError(`${root}: not a complete BEIR folder: missing ${missing.join(', ')}`);
  const split = chooseSplit(root, options.split);
  const corpusEntries = await readEntries(root, 'corpus.jsonl', true);
  const queryEntries = await readEntries(root, 'queries.jsonl', false);
  const qrels = await readQrels(join(root, 'qrels', `${split}.tsv`));
  const notes: string[] = [];
  const known = new Set(queryEntries.map((q) => q.id));
  const unknown = [...qrels.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) notes.push(`${unknown.length} judged queries are not in queries.jsonl (e.g. ${JSON.stringify(unknown[0])}); left out`);
  const corpus: CorpusEntry[] = corpusEntries;
  const queries: EvalQuery[] = queryEntries
    .filter((q) => qrels.has(q.id))
    .map((q) => ({ ...q, relevance: qrels.get(q.id)!, subset: 'default' }));
  return {
    name: basename(resolve(root)),
    layout: 'beir',
    split,
    languages: [],
    mainScore: 'ndcg_at_10',
    subsets: ['default'],
    averageSubsets: false,
    corpus,
    queries,
    source: root,
    notes,
  };
}
