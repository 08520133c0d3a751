/**
 * The converted-graph cache: the ONNX graphs built from a checkpoint are written once (model
 * protobuf + external weight data), keyed by everything that decides their bytes, so later
 * loads skip reading, widening and converting the weights.
 *
 * Layout: <cache>/graphs/<key>/{vision.onnx, vision.onnx.data, text.onnx, text.onnx.data, manifest.json}
 * and <cache>/sha256/<hash of path>.json remembering file checksums by (size, mtime).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../checkpoint/load.js';
import type { WeightMap } from '../checkpoint/weight-map.js';
import { type VisualizedBgeConfig, buildTextGraph, buildVisionGraph } from '../model/visualized-bge.js';
import { serializeModel } from '../onnx/serialize.js';
import { GRAPH_BUILDER_VERSION } from './provenance.js';

export interface GraphFiles {
  readonly vision: string;
  readonly text: string;
}

/** `VBGE_CACHE_DIR`, else `$XDG_CACHE_HOME/visualized-bge`, else `~/.cache/visualized-bge`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['VBGE_CACHE_DIR']) return env['VBGE_CACHE_DIR'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'visualized-bge');
}

/**
 * The SHA-256 of a file, remembered by (real path, size, mtime) so that a big checkpoint is
 * hashed once, not on every load.
 */
export async function rememberedSha256(path: string, cacheDir: string): Promise<string> {
  const real = realpathSync(path);
  const st = statSync(real);
  const record = join(cacheDir, 'sha256', `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.json`);
  try {
    const saved = JSON.parse(readFileSync(record, 'utf8')) as { size: number; mtimeMs: number; sha256: string };
    if (saved.size === st.size && saved.mtimeMs === st.mtimeMs && /^[0-9a-f]{64}$/.test(saved.sha256)) return saved.sha256;
  } catch {
    // not remembered yet
  }
  const sha256 = await sha256File(real);
  try {
    mkdirSync(join(cacheDir, 'sha256'), { recursive: true });
    writeAtomically(record, JSON.stringify({ path: real, size: st.size, mtimeMs: st.mtimeMs, sha256 }));
  } catch {
    // an unwritable cache only costs the next load a re-hash
  }
  return sha256;
}

export interface GraphKeyParts {
  readonly checkpointSha256: string;
  readonly textWeightsSha256: string | null;
  readonly config: VisualizedBgeConfig;
}

export function graphKey(parts: GraphKeyParts): string {
  const canonical = JSON.stringify({ builder: GRAPH_BUILDER_VERSION, ...parts });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

const FILES = ['vision.onnx', 'vision.onnx.data', 'text.onnx', 'text.onnx.data', 'manifest.json'] as const;

function filesIn(dir: string): GraphFiles {
  return { vision: join(dir, 'vision.onnx'), text: join(dir, 'text.onnx') };
}

/** Sizes of an entry's files, recorded when it is stored and checked before it is used. */
const SIZES_FILE = 'sizes.json';

/** The cached graphs for `key`, if a complete entry exists whose files have their recorded sizes. */
export function findCachedGraphs(cacheDir: string, key: string): GraphFiles | undefined {
  const dir = join(cacheDir, 'graphs', key);
  try {
    const sizes = JSON.parse(readFileSync(join(dir, SIZES_FILE), 'utf8')) as Record<string, number>;
    if (!FILES.every((f) => statSync(join(dir, f)).size === sizes[f])) return undefined;
  } catch {
    return undefined;
  }
  return filesIn(dir);
}

/** Removes an entry that could not be used (it will be rebuilt). */
export function discardCachedGraphs(cacheDir: string, key: string): void {
  rmSync(join(cacheDir, 'graphs', key), { recursive: true, force: true });
}

/** Leftovers of builds that died midway (older than a day; a concurrent build may still be writing a newer one). */
function sweepStaleBuilds(graphsDir: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of existsSync(graphsDir) ? readdirSync(graphsDir) : []) {
    const path = join(graphsDir, name);
    try {
      if (name.startsWith('.tmp-') && statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

/** Flushes a file to disk, so that a rename after it never publishes a half-written entry. */
function fsyncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes both graphs into `dir` (created), weights as external data next to each model.
 * Returns the model paths. `manifest` is stored as manifest.json.
 */
export function writeGraphs(dir: string, weights: WeightMap, config: VisualizedBgeConfig, manifest: object): GraphFiles {
  mkdirSync(dir, { recursive: true });
  for (const [name, build] of [
    ['vision', buildVisionGraph],
    ['text', buildTextGraph],
  ] as const) {
    const model = serializeModel(build(weights, config), {
      externalThresholdBytes: 1024,
      externalData: { location: `${name}.onnx.data`, path: join(dir, `${name}.onnx.data`) },
      metadata: { builder: GRAPH_BUILDER_VERSION },
    });
    writeFileSync(join(dir, `${name}.onnx`), model);
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return filesIn(dir);
}

/**
 * Builds into a private folder, records the file sizes, flushes everything to disk, then renames
 * the folder into place; a concurrent writer's complete copy wins ties.
 */
export function storeGraphs(cacheDir: string, key: string, weights: WeightMap, config: VisualizedBgeConfig, manifest: object): GraphFiles {
  const finalDir = join(cacheDir, 'graphs', key);
  const tmpDir = join(cacheDir, 'graphs', `.tmp-${key}-${randomBytes(6).toString('hex')}`);
  sweepStaleBuilds(join(cacheDir, 'graphs'));
  try {
    writeGraphs(tmpDir, weights, config, manifest);
    const sizes = Object.fromEntries(FILES.map((f) => [f, statSync(join(tmpDir, f)).size]));
    writeFileSync(join(tmpDir, SIZES_FILE), JSON.stringify(sizes));
    for (const f of [...FILES, SIZES_FILE]) fsyncFile(join(tmpDir, f));
    if (existsSync(finalDir) && !findCachedGraphs(cacheDir, key)) rmSync(finalDir, { recursive: true, force: true });
    try {
      renameSync(tmpDir, finalDir);
    } catch (err) {
      if (!findCachedGraphs(cacheDir, key)) throw err;
    }
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return filesIn(finalDir);
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
