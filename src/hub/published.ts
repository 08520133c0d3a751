import { dirname } from 'node:path';
import { textModelFiles } from '../checkpoint/hf-folder.js';
import { RepoCache } from './cache.js';
import { fetchFile, findVerified, type FetchedFile } from './download.js';
import { HubOfflineError } from './errors.js';
import { DEFAULT_REVISION, hubOptionsFromEnv, type HubOptions, type ResolvedHubOptions } from './options.js';

export type PublishedModel = 'base' | 'm3';

export interface PublishedFiles {
  /** Hub repository of the Visualized BGE checkpoints. */
  repo: string;
  /** The `.pth` in `repo`: every weight, the text tower's included. */
  weights: string;
  /** The BGE text model whose config and tokenizer the checkpoint was built on. */
  textRepo: string;
  /** Config and tokenizer files only: the text tower's weights come from the `.pth` (spec §6.3). */
  textFiles: string[];
}

export const PUBLISHED: Record<PublishedModel, PublishedFiles> = {
  base: {
    repo: 'BAAI/bge-visualized',
    weights: 'Visualized_base_en_v1.5.pth',
    textRepo: 'BAAI/bge-base-en-v1.5',
    textFiles: textModelFiles('bert'),
  },
  m3: {
    repo: 'BAAI/bge-visualized',
    weights: 'Visualized_m3.pth',
    textRepo: 'BAAI/bge-m3',
    textFiles: textModelFiles('xlm-roberta'),
  },
};

export function isPublishedModel(name: string): name is PublishedModel {
  return Object.prototype.hasOwnProperty.call(PUBLISHED, name);
}

export interface ResolvePublishedOptions extends HubOptions {
  /** false: use the cache only, as if offline (default true). */
  allowDownload?: boolean;
  /** Revision of the text repo; `revision` applies to the checkpoint repo. Default `main`. */
  textRevision?: string;
}

export interface PublishedModelPaths {
  /** The `.pth` checkpoint in the cache. */
  weights: string;
  /** snapshots/{commit} of the text repo: config.json and the tokenizer files. */
  textModelDir: string;
}

/**
 * Where the published checkpoint `model` and its text model's config/tokenizer are in the Hugging
 * Face cache, downloading what is missing unless offline. Offline with files missing, the error
 * lists them and names `vbge pull {model}`.
 */
export async function resolvePublishedModel(model: PublishedModel, opts: ResolvePublishedOptions = {}): Promise<PublishedModelPaths> {
  const spec = PUBLISHED[model];
  const o = hubOptionsFromEnv(opts);
  const textRevision = opts.textRevision ?? DEFAULT_REVISION;
  const command = `vbge pull ${model}`;
  if (o.offline || opts.allowDownload === false) return fromCache(spec, o, textRevision, command);

  const weights = await fetchFile(spec.repo, spec.weights, o, command);
  const [first, ...rest] = spec.textFiles as [string, ...string[]];
  const config = await fetchFile(spec.textRepo, first, { ...o, revision: textRevision }, command);
  // The rest at the commit the first one came from, so that the folder is one consistent snapshot.
  for (const file of rest) await fetchFile(spec.textRepo, file, { ...o, revision: config.commit }, command);
  return { weights: weights.path, textModelDir: dirname(config.path) };
}

async function fromCache(
  spec: PublishedFiles,
  o: ResolvedHubOptions,
  textRevision: string,
  command: string,
): Promise<PublishedModelPaths> {
  const missing: string[] = [];
  const look = async (repo: string, file: string, revision: string): Promise<FetchedFile | undefined> => {
    const found = await findVerified(new RepoCache(o.cacheDir, repo), file, { ...o, revision }, command);
    if (found === undefined) missing.push(`${repo}/${file}`);
    return found;
  };
  const weights = await look(spec.repo, spec.weights, o.revision);
  const text: (FetchedFile | undefined)[] = [];
  for (const file of spec.textFiles) text.push(await look(spec.textRepo, file, textRevision));
  if (weights === undefined || missing.length > 0) throw new HubOfflineError(missing, command, o.cacheDir);
  return { weights: weights.path, textModelDir: dirname(text[0]!.path) };
}
