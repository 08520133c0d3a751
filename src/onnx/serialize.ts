import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { AttrValue, ElemType, GraphBuilder, InitializerDef, IoDef } from './graph.js';

const { onnx } = onnxProto;

/** The ONNX opset our graphs are written against. */
export const OPSET = 17;
const IR_VERSION = 8;

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export interface SerializeOptions {
  /** Extra graph outputs: these taps of the builder, under their tap names. */
  tapOutputs?: readonly string[];
  /** Producer metadata written into the model. */
  metadata?: Record<string, string>;
  /**
   * Write initializers of at least this many bytes to an external data file instead of the
   * model protobuf (needed above protobuf's 2 GiB limit). Requires `externalData`.
   */
  externalThresholdBytes?: number;
  /** External data: the file name the model refers to, and the path it is written to. */
  externalData?: { location: string; path: string };
}

function bytesOf(data: InitializerDef['data']): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function attribute(name: string, value: AttrValue): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'object' && 'graph' in value) return { name, type: T.GRAPH, g: graphProto(value.graph, new Map(), inlineInitializer) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use {float} for non-integers`);
    return { name, type: T.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

function valueInfo(io: IoDef): OnnxTypes.IValueInfoProto {
  const elemType = ELEM[io.elemType];
  if (io.shape === null) return { name: io.name, type: { tensorType: { elemType } } };
  return {
    name: io.name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: io.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function inlineInitializer(init: InitializerDef): OnnxTypes.ITensorProto {
  return { name: init.name, dims: [...init.dims], dataType: ELEM[init.elemType], rawData: bytesOf(init.data) };
}

/** One graph (the model's, or a subgraph's) with `extra` outputs appended. */
function graphProto(g: GraphBuilder, extra: ReadonlyMap<string, IoDef>, initializer: (init: InitializerDef) => OnnxTypes.ITensorProto): OnnxTypes.IGraphProto {
  const nodes = [...g.nodes];
  const outputs = [...g.outputs];
  for (const [source, out] of extra) {
    nodes.push({ opType: 'Identity', domain: '', name: `n_${out.name}`, inputs: [source], outputs: [out.name], attributes: {} });
    outputs.push(out);
  }
  return {
    name: g.name,
    node: nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v)),
    })),
    initializer: g.initializers.map(initializer),
    input: g.inputs.map(valueInfo),
    output: outputs.map(valueInfo),
  };
}

/**
 * Encodes the builder's graph as an ONNX ModelProto. Initializers are stored as raw
 * little-endian bytes (this machine and every ORT target are little-endian).
 */
export function serializeModel(g: GraphBuilder, options: SerializeOptions = {}): Uint8Array {
  const threshold = options.externalThresholdBytes ?? Infinity;
  let external: { fd: number; offset: number; location: string } | undefined;
  if (options.externalData && threshold !== Infinity) {
    external = { fd: openSync(options.externalData.path, 'w'), offset: 0, location: options.externalData.location };
  }
  try {
    const initializer = (init: InitializerDef): OnnxTypes.ITensorProto => {
      const raw = bytesOf(init.data);
      if (!external || raw.byteLength < threshold) return inlineInitializer(init);
      // ORT maps external data; 4 KiB alignment keeps every tensor page-aligned.
      const aligned = Math.ceil(external.offset / 4096) * 4096;
      if (aligned > external.offset) writeSync(external.fd, new Uint8Array(aligned - external.offset), 0, aligned - external.offset, external.offset);
      writeSync(external.fd, raw, 0, raw.byteLength, aligned);
      external.offset = aligned + raw.byteLength;
      return {
        name: init.name,
        dims: [...init.dims],
        dataType: ELEM[init.elemType],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: external.location },
          { key: 'offset', value: String(aligned) },
          { key: 'length', value: String(raw.byteLength) },
        ],
      };
    };
    // Tap outputs carry no shape: their ranks differ and ORT infers them.
    const taps = new Map<string, IoDef>();
    for (const tapName of options.tapOutputs ?? []) {
      const tap = g.taps.get(tapName);
      if (!tap) throw new Error(`graph ${g.name} has no tap "${tapName}"`);
      taps.set(tap.value.name, { name: `tap:${tapName}`, elemType: tap.elemType, shape: null });
    }
    const model: OnnxTypes.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'visualized-bge',
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: graphProto(g, taps, initializer),
    };
    return onnx.ModelProto.encode(model).finish();
  } finally {
    if (external) closeSync(external.fd);
  }
}

/** Decodes a serialized model (for inspection: op census, metadata). */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
