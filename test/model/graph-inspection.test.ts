/**
 * Deterministic by construction: the serialized graphs contain no dropout and no random-number
 * op, and only the ops we expect. Inspects the real protobuf that ONNX Runtime loads.
 */
import { describe, expect, test } from 'vitest';
import { buildTextGraph, buildVisionGraph } from '../../src/model/visualized-bge.js';
import { decodeModel, serializeModel } from '../../src/onnx/serialize.js';
import { loadFixtureModel } from '../helpers/tiny-model.js';

const FORBIDDEN = /dropout|random|multinomial|bernoulli/i;
const ALLOWED = new Set([
  'Add', 'Cast', 'Concat', 'Conv', 'Div', 'Equal', 'Erf', 'Exp', 'Expand', 'Gather', 'Identity', 'If', 'LayerNormalization',
  'Less', 'Loop', 'MatMul', 'Max', 'Mul', 'Neg', 'ReduceL2', 'ReduceMin', 'Reshape', 'Shape', 'Slice', 'Softmax', 'Sub',
  'Transpose', 'Unsqueeze',
]);

type GraphProto = NonNullable<ReturnType<typeof decodeModel>['graph']>;
type NodeProto = NonNullable<GraphProto['node']>[number];

/** Every node of a graph and of its control-flow subgraphs (Loop bodies, If branches), depth first. */
function allNodes(graph: GraphProto): NodeProto[] {
  return (graph.node ?? []).flatMap((n) => [n, ...(n.attribute ?? []).flatMap((a) => (a.g ? allNodes(a.g) : []))]);
}

describe.each(['tiny-bert', 'tiny-xlmr'] as const)('%s graphs', (set) => {
  const model = loadFixtureModel(set);
  for (const [name, build] of [['vision', buildVisionGraph], ['text', buildTextGraph]] as const) {
    test(`${name} graph has no dropout or random op`, () => {
      // Attention in blocks of 2 rows, so that the text graph's Loop body is inspected too.
      const proto = decodeModel(serializeModel(build(model.weights, model.config, { attentionBlockRows: 2 })));
      const nodes = allNodes(proto.graph!);
      if (name === 'text') expect(nodes.length).toBeGreaterThan(proto.graph!.node!.length);
      const ops = nodes.map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`);
      expect(ops.length).toBeGreaterThan(50);
      expect(ops.filter((op) => FORBIDDEN.test(op))).toEqual([]);
      expect([...new Set(ops)].filter((op) => !ALLOWED.has(op))).toEqual([]);
      // No training-mode attribute anywhere (e.g. a BatchNorm/Dropout training_mode flag).
      const attrs = nodes.flatMap((n) => (n.attribute ?? []).map((a) => a.name));
      expect(attrs.filter((a) => /training|seed/i.test(a ?? ''))).toEqual([]);
    });
  }

  test('the detector would catch a dropout node', () => {
    const g = buildTextGraph(model.weights, model.config);
    const out = g.outputs[0]!;
    g.op('Dropout', [{ name: out.name }], {}, 'sneaky');
    const ops = decodeModel(serializeModel(g)).graph!.node!.map((n) => n.opType ?? '');
    expect(ops.filter((op) => FORBIDDEN.test(op))).toEqual(['Dropout']);
  });
});
