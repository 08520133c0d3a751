/** The model options every command shares: --model, or --weights with --text-model. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { downloadFile } from '../hub/download.js';
import { PUBLISHED, isPublishedModel, resolvePublishedModel } from '../hub/published.js';
import { dirname } from 'node:path';

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
    .option('--text-model <dir|repo>', 'the BGE text model: a folder with config.json and tokenizer files, or a hub repo id')
    .option('--vision-config <file>', 'an EVA02-CLIP model config JSON (only for checkpoints other than the published two)')
    .option('--text-weights <dir|file>', 'take the text tower weights from this HF folder or weights file instead of the checkpoint');
}

/** Turns the options into local files, fetching from the hub where a name was given. */
export async function resolveModelFiles(o: ModelCliOptions): Promise<ModelFiles> {
  if (o.model !== undefined) {
    if (o.weights !== undefined) throw new ConfigError('give either --model or --weights, not both');
    if (!isPublishedModel(o.model)) throw new ConfigError(`--model must be one of ${Object.keys(PUBLISHED).join(', ')}; got "${o.model}"`);
    const files = await resolvePublishedModel(o.model, { allowDownload: true });
    return { weights: files.weights, textModel: o.textModel ?? files.textModelDir, visionConfig: o.visionConfig, textWeights: o.textWeights };
  }
  if (o.weights === undefined) throw new ConfigError('no model given: pass --model base|m3, or --weights FILE.pth with --text-model DIR');
  if (o.textModel === undefined) throw new ConfigError('--weights needs --text-model (the BGE text model folder or hub repo id)');
  let textModel = o.textModel;
  if (!existsSync(textModel) && /^[\w.-]+\/[\w.-]+$/.test(textModel)) textModel = await fetchTextModel(textModel);
  return { weights: o.weights, textModel, visionConfig: o.visionConfig, textWeights: o.textWeights };
}

/** A text model named by hub repo id: its config and tokenizer files (never its weights). */
async function fetchTextModel(repo: string): Promise<string> {
  const known = Object.values(PUBLISHED).find((p) => p.textRepo === repo);
  const files = known?.textFiles ?? ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  let dir = '';
  for (const file of files) dir = dirname(await downloadFile(repo, file));
  return dir;
}
