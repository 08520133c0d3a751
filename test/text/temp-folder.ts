/** Temporary copies of a fixture's tokenizer folder, edited per test. */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, type FixtureSet } from '../helpers/fixtures.js';

export type JsonObject = Record<string, unknown>;

const made: string[] = [];

/** Copies `<set>/text` (tokenizer files and config.json only) to a fresh folder and lets `edit` change them. */
export function tokenizerFolder(
  set: FixtureSet,
  edit: (files: { tokenizer: JsonObject; config: JsonObject; modelConfig: JsonObject }) => void = () => {},
): string {
  const src = join(fixtureDir(set), 'text');
  const dir = mkdtempSync(join(tmpdir(), 'vbge-text-'));
  made.push(dir);
  for (const name of readdirSync(src)) {
    if (name.endsWith('.json')) copyFileSync(join(src, name), join(dir, name));
  }
  const read = (name: string): JsonObject => JSON.parse(readFileSync(join(dir, name), 'utf8')) as JsonObject;
  const files = { tokenizer: read('tokenizer.json'), config: read('tokenizer_config.json'), modelConfig: read('config.json') };
  edit(files);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(files.config));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(files.modelConfig));
  return dir;
}

/** Adds WordPiece vocabulary entries (new ids after the last one) to a BERT tokenizer.json. */
export function addWordPieces(tokenizer: JsonObject, pieces: string[]): void {
  const model = tokenizer['model'] as { vocab: Record<string, number> };
  let next = Math.max(...Object.values(model.vocab)) + 1;
  for (const p of pieces) if (!(p in model.vocab)) model.vocab[p] = next++;
}

export function removeTemporaryFolders(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
