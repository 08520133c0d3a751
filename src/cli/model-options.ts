/** The model options every command shares: --model, or --weights with --text-model. */
import { textModelFiles } from '../checkpoint/hf-folder.js';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { PUBLISHED, fetchFile, hubOptionsFromEnv, isPublishedModel, resolvePublishedModel } from '../hub/index.js';

export interface ModelCliOptions {
  model?: string;
  weights?: string;
  textModel?: string;
  visionConfig?: string;
  textWeights?: string;
}

export interface ModelFiles {
  weights: string;
  textModel: string;
  visionConfig?: string;
  textWeights?: string;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <name>', 'a published model from the Hugging Face hub: base | m3 (downloads into the HF cache unless HF_HUB_OFFLINE=1)')
    .option('--weights <file>', 'a Visualized BGE checkpoint (.pth)')
    .option('--text-model <dir|repo>', 'the BGE text model: a folder with config.json and tokenizer files, or a hub repo id (org/name)')
    .option('--vision-config <file>', 'an EVA02-CLIP model config JSON (only for checkpoints other than the published two)')
    .option('--text-weights <dir|file>', 'take the text tower weights from this HF folder or weights file instead of the checkpoint');
}

/** `--threads` and `--batch-size`: how the model runs, never what it computes. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--threads <n>', 'ONNX Runtime intra-op threads (never changes a result)')
    .option('--batch-size <n>', 'most inputs per forward pass (never changes a result)');
}

/** Turns the options into local files, fetching from the hub where a name was given. */
export async function resolveModelFiles(o: ModelCliOptions): Promise<ModelFiles> {
  if (o.model !== undefined) {
    if (o.weights !== undefined) throw new ConfigError('give either --model or --weights, not both');
    if (!isPublishedModel(o.model)) throw new ConfigError(`--model must be one of ${Object.keys(PUBLISHED).join(', ')}; got "${o.model}"`);
    // A bad --text-model should fail before the checkpoint download, not after it.
    const textModel = o.textModel === undefined ? undefined : await resolveTextModel(o.textModel);
    const files = await resolvePublishedModel(o.model, { allowDownload: true });
    return { weights: files.weights, textModel: textModel ?? files.textModelDir, visionConfig: o.visionConfig, textWeights: o.textWeights };
  }
  if (o.weights === undefined) throw new ConfigError('no model given: pass --model base|m3, or --weights FILE.pth with --text-model DIR');
  if (o.textModel === undefined) throw new ConfigError('--weights needs --text-model (the BGE text model folder or hub repo id)');
  const textModel = await resolveTextModel(o.textModel);
  return { weights: o.weights, textModel, visionConfig: o.visionConfig, textWeights: o.textWeights };
}

const HUB_REPO_ID = /^[\w.-]+\/[\w.-]+$/;
const FOLDER_ROLE = 'the text model folder with config.json and tokenizer files';

type PathKind = 'folder' | 'file' | 'missing';

function pathKind(path: string): PathKind {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

/** Spelled like a path, so it must never be sent to the hub as a repo id. */
function looksLikePath(value: string): boolean {
  return /^[./~]/.test(value) || value.includes('\\') || /^[A-Za-z]:/.test(value);
}

/** `~` and `~/…` as a shell would have expanded them (an `--opt=~/x` argument reaches us unexpanded). */
function expandHome(value: string): string {
  if (value === '~') return homedir();
  if (value.startsWith('~/')) return join(homedir(), value.slice(2));
  return value;
}

/**
 * `--text-model`: a local folder when it is spelled like a path or exists on disk; otherwise an
 * `org/name` hub repo id whose config and tokenizer files are fetched.
 */
export async function resolveTextModel(value: string): Promise<string> {
  const local = expandHome(value);
  const kind = pathKind(local);
  if (kind === 'folder') return local;
  if (kind === 'file') throw new ConfigError(`${value}: is a file, not a folder (${FOLDER_ROLE})`);
  if (looksLikePath(value) || !HUB_REPO_ID.test(value))
    throw new ConfigError(`${value}: no such folder (${FOLDER_ROLE}${looksLikePath(value) ? '' : '; a hub repo id is org/name'})`);
  try {
    return await fetchTextModel(value);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`--text-model ${value}: no such folder ${value}, and fetching it from the hub failed: ${reason}`, { cause: err });
  }
}

/** A text model named by hub repo id: its config and tokenizer files (never its weights). */
async function fetchTextModel(repo: string): Promise<string> {
  const known = Object.values(PUBLISHED).find((p) => p.textRepo === repo);
  const [first, ...rest] = (known?.textFiles ?? textModelFiles()) as [string, ...string[]];
  const o = hubOptionsFromEnv();
  const config = await fetchFile(repo, first, o);
  // The other files at the commit the config came from: one consistent snapshot.
  for (const file of rest) await fetchFile(repo, file, { ...o, revision: config.commit });
  return dirname(config.path);
}
