/**
 * The converted-graph cache: the ONNX graphs built from a checkpoint are written once, keyed by
 * everything that decides their bytes and their execution, so later loads skip reading, widening
 * and converting the weights.
 *
 * An entry goes through two stages:
 *  1. portable: the builder's graphs (model protobuf + external weight data), as `vbge export`
 *     writes them;
 *  2. optimized: the same graphs as ONNX Runtime optimises them at the pinned level, with the
 *     GEMM weights already packed for this CPU (ORT's `save_external_prepacked_constant_initializers`).
 *     ORT 1.30 still packs each weight once more while loading (the saved copy is found by a hash
 *     of the packed bytes), but then uses the mapped copy rather than keeping its own: a load
 *     several times faster than from the portable files (bge-m3's vision tower 1.7 s against
 *     9.8 s here) that leaves the weights in the page cache. Computation is the same, bit for
 *     bit (the tests compare).
 *
 * Layout: <cache>/graphs/<key>/{manifest.json, sizes.json, vision*.onnx[.data], text*.onnx[.data]}
 * (sizes.json lists the model files of the current stage) and <cache>/sha256/<hash of path>.json
 * remembering file checksums by (size, mtime).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Ort from 'onnxruntime-node';
import { makeDirs, writeAtomically } from '../util/fs.js';
import { sha256OfFile } from '../util/file-hash.js';
import { cpuInstructionSet } from './cpu.js';
import { GRAPH_NAMES as GRAPHS, type GraphName, type ProbeFeeds, outputHash } from './probe-feeds.js';
import { GRAPH_BUILDER_VERSION } from './provenance.js';
import { GRAPH_OPTIMIZATION_LEVEL, ORT_VERSION, type SessionSettings, ort, sessionOptions } from './session.js';
import { type GraphSession, openWithVisionInWorker } from './worker-session.js';

export interface GraphFiles {
  readonly vision: string;
  readonly text: string;
  /** Graphs still in stage 1 that may yet be optimised (stage 2: ORT-optimised, weights prepacked). */
  readonly pending: readonly GraphName[];
  /** The entry's recorded sizes as read, to tell later whether another process changed it. */
  readonly version: string;
}

export type { GraphName, ProbeFeeds };

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
  const sha256 = await sha256OfFile(real);
  try {
    makeDirs(join(cacheDir, 'sha256'));
    writeAtomically(record, JSON.stringify({ path: real, size: st.size, mtimeMs: st.mtimeMs, sha256 }));
  } catch {
    // an unwritable cache only costs the next load a re-hash
  }
  return sha256;
}

export interface GraphKeyParts {
  readonly checkpointSha256: string;
  readonly textWeightsSha256: string | null;
  /** The model configuration the graphs are built from. */
  readonly config: object;
}

/** Everything that decides an entry's bytes: the model, the builder, and (for stage 2) ORT and the CPU. */
export function graphKey(parts: GraphKeyParts): string {
  const canonical = JSON.stringify({
    builder: GRAPH_BUILDER_VERSION,
    onnxruntime: ORT_VERSION,
    level: GRAPH_OPTIMIZATION_LEVEL,
    cpu: cpuInstructionSet(),
    ...parts,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

const portableFiles = (g: GraphName): string[] => [`${g}.onnx`, `${g}.onnx.data`];
const optimizedFiles = (g: GraphName): string[] => [`${g}.opt.onnx`, `${g}.opt.onnx.data`];
const SIZES_FILE = 'sizes.json';

function entryDir(cacheDir: string, key: string): string {
  return join(cacheDir, 'graphs', key);
}

/** A graph optimisation that failed its check stays portable; this file says why. */
const portableOnlyFile = (g: GraphName): string => `${g}.portable-only.txt`;

/** Each graph's current stage in an entry: its optimised files when present, else its portable ones. */
function graphStage(sizes: Record<string, number>, g: GraphName): 'optimized' | 'portable' | undefined {
  if (optimizedFiles(g).every((f) => f in sizes)) return 'optimized';
  if (portableFiles(g).every((f) => f in sizes)) return 'portable';
  return undefined;
}

/** The cached graphs for `key`, if an entry exists whose files all have their recorded sizes. */
export function findCachedGraphs(cacheDir: string, key: string): GraphFiles | undefined {
  const dir = entryDir(cacheDir, key);
  try {
    const version = readFileSync(join(dir, SIZES_FILE), 'utf8');
    const sizes = JSON.parse(version) as Record<string, number>;
    const files = Object.keys(sizes);
    if (files.length === 0 || !files.every((f) => statSync(join(dir, f)).size === sizes[f])) return undefined;
    const stages = GRAPHS.map((g) => graphStage(sizes, g));
    if (stages.some((st) => st === undefined)) return undefined;
    const path = (g: GraphName, i: number): string => join(dir, stages[i] === 'optimized' ? `${g}.opt.onnx` : `${g}.onnx`);
    return {
      vision: path('vision', 0),
      text: path('text', 1),
      pending: GRAPHS.filter((g, i) => stages[i] === 'portable' && !existsSync(join(dir, portableOnlyFile(g)))),
      version,
    };
  } catch {
    return undefined;
  }
}

/** Removes an entry that could not be used (it will be rebuilt). */
export function discardCachedGraphs(cacheDir: string, key: string): void {
  rmSync(entryDir(cacheDir, key), { recursive: true, force: true });
}

/** Leftovers of builds that died midway (older than a day; a concurrent build may still be writing a newer one). */
function sweepStale(dir: string, prefix: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const path = join(dir, name);
    try {
      if (name.startsWith(prefix) && statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
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

function recordSizes(dir: string, files: readonly string[]): void {
  for (const f of files) fsyncFile(join(dir, f));
  writeAtomically(join(dir, SIZES_FILE), JSON.stringify(Object.fromEntries(files.map((f) => [f, statSync(join(dir, f)).size]))));
}

/**
 * Writes an entry's stage-1 files into a folder (created): `vision.onnx`, `text.onnx` and their
 * `.onnx.data`, and `manifest.json`. The load layer builds them; the cache only stores them.
 */
export type GraphWriter = (dir: string) => void;

/**
 * Stage 1: builds into a private folder, records the file sizes, flushes everything to disk,
 * then renames the folder into place; a concurrent writer's complete copy wins ties.
 */
export function storeGraphs(cacheDir: string, key: string, write: GraphWriter): GraphFiles {
  const finalDir = entryDir(cacheDir, key);
  const tmpDir = join(cacheDir, 'graphs', `.tmp-${key}-${randomBytes(6).toString('hex')}`);
  sweepStale(join(cacheDir, 'graphs'), '.tmp-');
  try {
    write(tmpDir);
    recordSizes(tmpDir, GRAPHS.flatMap(portableFiles));
    if (existsSync(finalDir) && !findCachedGraphs(cacheDir, key)) rmSync(finalDir, { recursive: true, force: true });
    try {
      renameSync(tmpDir, finalDir);
    } catch (err) {
      if (!findCachedGraphs(cacheDir, key)) throw err;
    }
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return findCachedGraphs(cacheDir, key) ?? { vision: join(finalDir, 'vision.onnx'), text: join(finalDir, 'text.onnx'), pending: [...GRAPHS], version: '' };
}

/** Signals that mean the check process crashed (a bad file), not that it was stopped from outside. */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGABRT', 'SIGFPE']);

type ProbeResult =
  | { readonly hashes: Partial<Record<GraphName, string>> }
  | { readonly failure: string; readonly crashed: boolean };

/**
 * The check process (graph-probe.ts): the compiled module, or from sources (vitest, tsx) the
 * TypeScript one through tsx's loader.
 */
function probeCommand(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [fileURLToPath(new URL('./graph-probe.js', import.meta.url))];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, fileURLToPath(new URL('./graph-probe.ts', import.meta.url))];
}

/**
 * Loads the optimised graphs in a separate process and returns their outputs' hashes: a bad
 * prepacked file (ORT 1.30 crashes on the L/14 vision tower's) must not take this process down.
 */
function probeInChild(dir: string, settings: SessionSettings, feeds: Partial<ProbeFeeds>): Promise<ProbeResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [...probeCommand(), dir, JSON.stringify(sessionOptions(settings))], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolvePromise({ failure: `the check process could not start (${err.message})`, crashed: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolvePromise({ hashes: JSON.parse(stdout) as Partial<Record<GraphName, string>> });
        } catch {
          resolvePromise({ failure: 'the check process printed no result', crashed: false });
        }
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      const detail = stderr.trim().split('\n')[0];
      resolvePromise({ failure: `the check process ${how}${detail ? `: ${detail}` : ''}`, crashed: signal !== null && CRASH_SIGNALS.has(signal) });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(feeds));
  });
}

/**
 * Opens the sessions of a cache entry (without `vision`, the text graph's alone), taking each
 * graph it opens that is still in stage 1 to stage 2 on the way:
 * as ORT initialises its session it writes the optimised graph with prepacked weights; the file
 * is then loaded in a child process and must reproduce this session's outputs bit for bit on
 * probe inputs before it replaces the portable files. A graph that fails the check stays portable
 * for good (`<graph>.portable-only.txt` says why). Returns the sessions created here.
 */
export async function openCachedGraphs(
  cacheDir: string,
  key: string,
  files: GraphFiles,
  probeFeeds: () => ProbeFeeds,
  settings: SessionSettings,
  vision = true,
): Promise<{ vision?: GraphSession; text: GraphSession }> {
  const dir = entryDir(cacheDir, key);
  if (!vision || files.pending.includes('vision')) return openHere(dir, files, vision ? GRAPHS : ['text'], probeFeeds, settings);
  // An optimised vision graph gets its session in a worker thread while this thread opens the text graph's.
  const sessions = await openWithVisionInWorker(files.vision, sessionOptions(settings), () => openHere(dir, files, ['text'], probeFeeds, settings));
  if (files.vision.endsWith('.opt.onnx')) sweepReplacedPortables(dir, 'vision');
  return sessions;
}

/** `graphs` of the entry opened on this thread, promoting those still in stage 1; all or none. */
async function openHere(
  dir: string,
  files: GraphFiles,
  graphs: readonly GraphName[],
  probeFeeds: () => ProbeFeeds,
  settings: SessionSettings,
): Promise<{ vision?: GraphSession; text: GraphSession }> {
  const sessions: Partial<Record<GraphName, GraphSession>> = {};
  let work: string | undefined;
  let feeds: ProbeFeeds | undefined;
  try {
    for (const g of graphs) {
      if (!files.pending.includes(g)) {
        sessions[g] = await ort.InferenceSession.create(files[g], sessionOptions(settings));
        if (files[g].endsWith('.opt.onnx')) sweepReplacedPortables(dir, g);
        continue;
      }
      if (!work) {
        sweepStale(dir, '.opt-');
        work = join(dir, `.opt-${randomBytes(6).toString('hex')}`);
        makeDirs(work);
      }
      const session = await ort.InferenceSession.create(files[g], {
        ...sessionOptions(settings, {
          save_external_prepacked_constant_initializers: '1',
          optimized_model_external_initializers_file_name: `${g}.opt.onnx.data`,
          optimized_model_external_initializers_min_size_in_bytes: '1024',
        }),
        optimizedModelFilePath: join(work, `${g}.opt.onnx`),
      });
      sessions[g] = session;
      try {
        feeds ??= probeFeeds();
        await promoteIfFaithful(dir, work, g, session, feeds, settings);
      } catch {
        // The portable graph still works; the next load tries again.
      }
    }
    return { ...sessions, text: sessions.text! };
  } catch (err) {
    for (const s of Object.values(sessions)) await s?.release();
    throw err;
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Stage 1 → 2 for one graph, when its optimised file computes exactly what `session` computes.
 * The portable files stay until a later load finds them older than the grace period: another
 * process may have read the entry as portable and still be opening them.
 */
async function promoteIfFaithful(
  dir: string,
  work: string,
  g: GraphName,
  session: Ort.InferenceSession,
  feeds: ProbeFeeds,
  settings: SessionSettings,
): Promise<void> {
  const expected = await outputHash(session, feeds[g]);
  const probe = await probeInChild(work, settings, { [g]: feeds[g] });
  const actual = 'hashes' in probe ? probe.hashes[g] : undefined;
  if (actual !== expected) {
    // Only a crash or different numbers are the file's fault; anything else (killed for memory,
    // could not start) leaves the graph pending for the next load.
    if ('failure' in probe && !probe.crashed) return;
    const why = 'failure' in probe ? probe.failure : `its outputs differ (sha256 ${actual} instead of ${expected})`;
    writeFileSync(
      join(dir, portableOnlyFile(g)),
      `ONNX Runtime ${ORT_VERSION}'s optimised ${g} graph with prepacked weights did not pass its check: ${why}. This graph stays portable.\n`,
    );
    return;
  }
  for (const f of optimizedFiles(g)) {
    fsyncFile(join(work, f));
    renameSync(join(work, f), join(dir, f));
  }
  const sizes = JSON.parse(readFileSync(join(dir, SIZES_FILE), 'utf8')) as Record<string, number>;
  const current = GRAPHS.flatMap((h) => (h === g || graphStage(sizes, h) === 'optimized' ? optimizedFiles(h) : portableFiles(h)));
  recordSizes(dir, current);
}

/** How long the portable files of an optimised graph are kept for processes still opening them. */
const PORTABLE_GRACE_MS = 10 * 60 * 1000;

/** Removes portable files that an optimised graph replaced more than the grace period ago. */
function sweepReplacedPortables(dir: string, g: GraphName): void {
  try {
    if (Date.now() - statSync(join(dir, `${g}.opt.onnx`)).mtimeMs < PORTABLE_GRACE_MS) return;
    for (const f of portableFiles(g)) rmSync(join(dir, f), { force: true });
  } catch {
    // nothing to sweep, or another process did it
  }
}

/** The entry's recorded sizes as text, to tell later whether another process changed it. */
export function entryVersion(cacheDir: string, key: string): string | undefined {
  try {
    return readFileSync(join(entryDir(cacheDir, key), SIZES_FILE), 'utf8');
  } catch {
    return undefined;
  }
}
