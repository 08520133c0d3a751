/**
 * The load strategy: where a model's two ONNX graphs come from — built in memory from the
 * checkpoint, the converted-graph cache (built and stored on a miss), or a folder written by
 * `vbge export --onnx` — and the ONNX Runtime sessions over them. The Encoder only runs them.
 */
import { join } from 'node:path';
import { textWeightsFile } from '../checkpoint/load.js';
import { ConfigError } from '../errors.js';
import { PUBLISHED, type PublishedModel, isPublishedModel, resolvePublishedModel } from '../hub/published.js';
import { type VisualizedBgeConfig, buildTextGraph, buildVisionGraph } from '../model/visualized-bge.js';
import { serializeModel } from '../onnx/serialize.js';
import {
  defaultCacheDir,
  discardCachedGraphs,
  entryVersion,
  findCachedGraphs,
  graphKey,
  openCachedGraphs,
  rememberedSha256,
  storeGraphs,
} from '../runtime/graph-cache.js';
import type { Provenance } from '../runtime/provenance.js';
import { createSession, sessionOptions } from '../runtime/session.js';
import { type GraphSession, openWithVisionInWorker } from '../runtime/worker-session.js';
import { readExportManifest } from './export.js';
import { probeFeeds, writeGraphs } from './graph-files.js';
import { type ModelFileOptions, openModelSource } from './model-files.js';
import type { KnownChecksums } from './provenance.js';

export type GraphSource = 'memory' | 'built-and-cached' | 'cache' | 'exported';
export type { PublishedModel };

/** The sessions of an open model; no vision session when it was opened for text only. */
export type Sessions = { vision?: GraphSession; text: GraphSession };

/**
 * What provenance is computed from: the files a checkpoint-based model was loaded from (published
 * models resolved to their cached files), or the record an exported folder carries.
 */
export type ModelSources =
  | (KnownChecksums & { readonly files: Pick<ModelFileOptions, 'weights' | 'textWeights' | 'visionConfig'>; readonly provenance?: undefined })
  | { readonly provenance: Provenance; readonly files?: undefined };

export interface LoadedModel {
  readonly graphSource: GraphSource;
  readonly config: VisualizedBgeConfig;
  /** Creates the ONNX Runtime sessions: both, or the text graph's alone when `vision` is false. */
  readonly open: (threads: number, vision: boolean) => Promise<Sessions>;
  /** For cached graphs: the model again after an open failure (re-read, or rebuilt if unchanged). */
  readonly reload?: () => Promise<LoadedModel>;
  /** The tokenizer's folder: the text model's, or an exported folder's own copy. */
  readonly tokenizerDir: string;
  readonly sources: ModelSources;
}

export interface LoadModelOptions extends Partial<ModelFileOptions> {
  /** A published model from the Hugging Face hub (through its cache), instead of `weights` + `textModel`. */
  readonly model?: PublishedModel;
  /** A folder written by `vbge export --onnx`, instead of `weights`. */
  readonly onnx?: string;
  /** Where converted graphs are cached (default: see `defaultCacheDir`); false builds them in memory every time. */
  readonly graphCache?: string | false;
}

/**
 * Where parsed tokenizers are cached (text/description-cache.ts): `tokenizers/` beside the graphs,
 * or nowhere when the graph cache is off.
 */
export function tokenizerCacheDir(graphCache: string | false | undefined): string | undefined {
  return graphCache === false ? undefined : join(graphCache ?? defaultCacheDir(), 'tokenizers');
}

/** The model's graphs from the exported folder, the cache, or built in memory (sessions not yet open). */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  if (options.model !== undefined) {
    if (options.weights !== undefined || options.onnx !== undefined) throw new ConfigError('give one of model, weights or onnx');
    if (!isPublishedModel(options.model)) throw new ConfigError(`model must be one of ${Object.keys(PUBLISHED).join(', ')}; got "${String(options.model)}"`);
    const files = await resolvePublishedModel(options.model);
    return loadCheckpoint({ ...options, weights: files.weights, textModel: options.textModel ?? files.textModelDir });
  }
  return options.onnx !== undefined ? loadExported(options.onnx) : loadCheckpoint(options);
}

/**
 * Opens the sessions. A cache entry that fails to open is read again: another process may have
 * just changed it (then it is used as it is now); if it is unchanged it is damaged, and rebuilt once.
 */
export async function openSessions(model: LoadedModel, threads: number, vision = true): Promise<{ model: LoadedModel; sessions: Sessions }> {
  try {
    return { model, sessions: await model.open(threads, vision) };
  } catch (err) {
    if (!model.reload) throw err;
    const again = await model.reload();
    return { model: again, sessions: await again.open(threads, vision) };
  }
}

/** Graphs from the converted-graph cache, building and storing them on a miss. */
async function loadCheckpoint(options: LoadModelOptions): Promise<LoadedModel> {
  if (options.weights === undefined) throw new ConfigError('no model given: pass weights (a Visualized BGE .pth) or onnx (an exported folder)');
  if (options.textModel === undefined) throw new ConfigError('weights needs textModel (the BGE text model folder with config.json and tokenizer files)');
  const { weights, config } = openModelSource({ ...options, weights: options.weights, textModel: options.textModel });
  const files = { weights: options.weights, textWeights: options.textWeights, visionConfig: options.visionConfig };
  const tokenizerDir = options.textModel;
  const inMemory = (sources: ModelSources): LoadedModel => {
    const vision = serializeModel(buildVisionGraph(weights, config));
    const text = serializeModel(buildTextGraph(weights, config));
    return { graphSource: 'memory', config, open: (threads, withVision) => createSessions(withVision ? vision : undefined, text, threads), tokenizerDir, sources };
  };
  if (options.graphCache === false) return inMemory({ files });
  const cacheDir = options.graphCache ?? defaultCacheDir();
  const checkpointSha256 = await rememberedSha256(options.weights, cacheDir);
  const textWeightsSha256 = options.textWeights ? await rememberedSha256(textWeightsFile(options.textWeights), cacheDir) : null;
  const key = graphKey({ checkpointSha256, textWeightsSha256, config });
  const cached = findCachedGraphs(cacheDir, key);
  let graphs = cached;
  if (!graphs) {
    try {
      graphs = storeGraphs(cacheDir, key, (dir) => writeGraphs(dir, weights, config, { key, checkpointSha256, textWeightsSha256, config }));
    } catch (err) {
      // An unusable cache (read-only, full, not a folder) costs speed, never the load.
      process.emitWarning(`graph cache ${cacheDir} is not usable (${(err as Error).message}); building the graphs in memory`, 'VbgeCacheWarning');
      return inMemory({ files, checkpointSha256, textWeightsSha256 });
    }
  }
  const entry = graphs;
  return {
    graphSource: cached ? 'cache' : 'built-and-cached',
    config,
    // A portable entry is optimised (weights prepacked for this CPU) by its first load.
    open: (threads, vision) => openCachedGraphs(cacheDir, key, entry, () => probeFeeds(config), { threads }, vision),
    tokenizerDir,
    sources: { files, checkpointSha256, textWeightsSha256 },
    reload: async () => {
      if (entryVersion(cacheDir, key) === entry.version) discardCachedGraphs(cacheDir, key);
      const again = await loadCheckpoint(options);
      return { ...again, reload: undefined };
    },
  };
}

/** A folder written by `vbge export --onnx`. */
function loadExported(dir: string): LoadedModel {
  const manifest = readExportManifest(dir);
  return {
    graphSource: 'exported',
    config: manifest.config,
    open: (threads, vision) => createSessions(vision ? join(dir, manifest.graphs.vision.file) : undefined, join(dir, manifest.graphs.text.file), threads),
    tokenizerDir: join(dir, manifest.tokenizer.dir),
    sources: { provenance: manifest.provenance },
  };
}

/**
 * Both sessions (or the text graph's alone, without `visionModel`), or neither: a failure releases
 * what was created. A vision graph in a file gets its session in a worker thread, created while
 * this thread creates the text graph's (worker-session.ts); graph bytes built in memory stay on
 * this thread.
 */
async function createSessions(visionModel: Uint8Array | string | undefined, textModel: Uint8Array | string, threads: number): Promise<Sessions> {
  const openText = async (): Promise<Sessions> => ({ text: await createSession(textModel, { threads }) });
  if (visionModel === undefined) return openText();
  if (typeof visionModel === 'string') return openWithVisionInWorker(visionModel, sessionOptions({ threads }), openText);
  const vision = await createSession(visionModel, { threads });
  try {
    return { vision, ...(await openText()) };
  } catch (err) {
    await vision.release();
    throw err;
  }
}
