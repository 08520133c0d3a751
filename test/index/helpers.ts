/** Shared pieces of the retrieval tests: the tiny model, a folder of test images, a Postgres to talk to. */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Encoder } from '../../src/encoder.js';
import { fixtureModelFiles } from '../helpers/tiny-model.js';

export const IMAGES_DIR = resolve('test/fixtures/images');
export const MODEL_FILES = fixtureModelFiles('tiny-bert');

export function loadTinyEncoder(): Promise<Encoder> {
  return Encoder.load({ ...MODEL_FILES, graphCache: false, threads: 1, imageWorkers: 0 });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vbge-${prefix}-`));
}

/** A folder holding copies of `count` fixture images (all of them by default), names sorted. */
export function imageFolder(count = Infinity): string {
  const dir = join(tempDir('images'), 'photos');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(IMAGES_DIR).sort().slice(0, count)) copyFileSync(join(IMAGES_DIR, name), join(dir, name));
  return dir;
}
