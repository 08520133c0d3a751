import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightMap } from '../../src/checkpoint/weight-map.js';
import { openModelSource } from '../../src/load/model-files.js';
import type { VisualizedBgeConfig } from '../../src/model/visualized-bge.js';
import { type CasesFile, type FixtureSet, fixtureDir, fixturePath, loadCases } from './fixtures.js';

export interface FixtureModel {
  set: FixtureSet;
  cases: CasesFile;
  weightsPath: string;
  textDir: string;
  visionConfigPath: string;
  weights: WeightMap;
  config: VisualizedBgeConfig;
}

/** The files of a fixture model, as a user would pass them to `Encoder.load` / `vbge embed`. */
export function fixtureModelFiles(set: FixtureSet): { weights: string; textModel: string; visionConfig: string } {
  const cases = loadCases(set);
  return {
    weights: join(fixtureDir(set), cases.checkpoint),
    textModel: fixturePath(set, cases.text_model_dir),
    visionConfig: fixturePath(set, cases.vision_config),
  };
}

export function loadFixtureModel(set: FixtureSet): FixtureModel {
  const cases = loadCases(set);
  const files = fixtureModelFiles(set);
  const { weights, config } = openModelSource(files);
  return { set, cases, weightsPath: files.weights, textDir: files.textModel, visionConfigPath: files.visionConfig, weights, config };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
