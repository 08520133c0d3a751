import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The golden fixtures, copied into the repository from shared/fixtures (see its README). */
export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export type FixtureSet = 'tiny-bert' | 'tiny-xlmr' | 'tiny-bert-fp16';

export interface SingleCase {
  id: string;
  kind: 'text' | 'image' | 'image+text';
  text: string | null;
  image: string | null;
  pixel_values: string | null;
  tokens: string[];
  input_ids: number[];
  attention_mask: number[];
  embedding: number[];
  batch?: undefined;
}

export interface BatchCase {
  id: string;
  kind: 'text' | 'image' | 'image+text';
  batch: true;
  texts?: (string | null)[];
  images?: (string | null)[];
  pixel_values?: (string | null)[];
  input_ids: number[][];
  attention_mask: number[][];
  embeddings: number[][];
  [k: string]: unknown;
}

export interface CasesFile {
  checkpoint: string;
  text_model_dir: string;
  vision_config: string;
  embedding_dim: number;
  num_image_tokens: number;
  cases: (SingleCase | BatchCase)[];
  intermediates?: Record<
    string,
    {
      case: string;
      image?: string;
      text?: string;
      tensors: Record<string, { file: string; shape: number[]; sha256: string; description?: string }>;
    }
  >;
  [k: string]: unknown;
}

export function fixtureDir(set: FixtureSet): string {
  return join(FIXTURES, set);
}

export function loadCases(set: FixtureSet): CasesFile {
  return JSON.parse(readFileSync(join(fixtureDir(set), 'cases.json'), 'utf8')) as CasesFile;
}

/** Resolves a path written in a cases.json (relative to that set's folder). */
export function fixturePath(set: FixtureSet, rel: string): string {
  return resolve(fixtureDir(set), rel);
}

export function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function readU8(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
