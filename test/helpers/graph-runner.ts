import { basename, extname } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { buildTextGraph, buildVisionGraph, composedPositions, imageTokenCount, textOnlyPositions } from '../../src/model/visualized-bge.js';
import type { GraphBuilder } from '../../src/onnx/graph.js';
import { serializeModel } from '../../src/onnx/serialize.js';
import { createSession, ort } from '../../src/runtime/session.js';
import { FIXTURES, readF32 } from './fixtures.js';
import type { FixtureModel } from './tiny-model.js';

/** The recorded preprocess output for a fixture image path like "../images/cir_query.png". */
export function recordedPixels(imagePath: string): Float32Array {
  const stem = basename(imagePath, extname(imagePath));
  return readF32(`${FIXTURES}/preprocess/${stem}.pixel_values.f32`);
}

/** Both graphs with every tap exposed as an extra output `tap:<name>`. */
export class TappedModel {
  private constructor(
    readonly model: FixtureModel,
    readonly visionGraph: GraphBuilder,
    readonly textGraph: GraphBuilder,
    private readonly vision: Ort.InferenceSession,
    private readonly text: Ort.InferenceSession,
  ) {}

  static async create(model: FixtureModel, threads = 1): Promise<TappedModel> {
    const vg = buildVisionGraph(model.weights, model.config);
    // Every layer in full, so that the taps hold whole tensors (production graphs stop the last layer at CLS).
    const tg = buildTextGraph(model.weights, model.config, { fullLastLayer: true });
    const vision = await createSession(serializeModel(vg, { tapOutputs: [...vg.taps.keys()] }), { threads });
    const text = await createSession(serializeModel(tg, { tapOutputs: [...tg.taps.keys()] }), { threads });
    return new TappedModel(model, vg, tg, vision, text);
  }

  async runVision(pixels: Float32Array[]): Promise<Ort.InferenceSession.ReturnType> {
    const batch = new Float32Array(pixels.length * 3 * 224 * 224);
    pixels.forEach((p, i) => batch.set(p, i * p.length));
    return this.vision.run({ pixel_values: new ort.Tensor('float32', batch, [pixels.length, 3, 224, 224]) });
  }

  /**
   * Runs the text graph on padded [B, T] ids/mask exactly as upstream batches them; imageTokens
   * [B, N, W] for composed inputs.
   */
  async runText(ids: number[][], mask: number[][], imageTokens?: Float32Array): Promise<Ort.InferenceSession.ReturnType> {
    const cfg = this.model.config;
    const b = ids.length;
    const t = ids[0]!.length;
    const n = imageTokens ? imageTokenCount(cfg) : 0;
    const w = cfg.text.hiddenSize;
    const flatIds = BigInt64Array.from(ids.flat(), BigInt);
    const positions = BigInt64Array.from(ids.flatMap((row) => (imageTokens ? composedPositions(cfg, t) : textOnlyPositions(cfg.text, row))), BigInt);
    const fullMask = BigInt64Array.from(mask.flatMap((row) => [...new Array<number>(n).fill(1), ...row]), BigInt);
    return this.text.run({
      input_ids: new ort.Tensor('int64', flatIds, [b, t]),
      position_ids: new ort.Tensor('int64', positions, [b, t]),
      attention_mask: new ort.Tensor('int64', fullMask, [b, n + t]),
      image_tokens: new ort.Tensor('float32', imageTokens ?? new Float32Array(0), [b, n, w]),
    });
  }

  async release(): Promise<void> {
    await this.vision.release();
    await this.text.release();
  }
}
