/**
 * A small typed builder for ONNX graphs. Model code calls ops in data-flow order; the builder
 * names values, keeps initializers (weights) and records "taps" — named intermediate values that
 * a debug build exposes as extra outputs so tests can compare them with upstream's.
 */

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;

/** A value flowing through the graph: a graph input, an initializer or a node output. */
export interface Value {
  readonly name: string;
}

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { graph: GraphBuilder };

export interface NodeDef {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttrValue>>;
}

export interface InitializerDef {
  readonly name: string;
  readonly elemType: ElemType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/**
 * The ONNX ops our graphs use, each with its attributes (opset 17). Model code adds nodes through
 * `node()`, typed by this map, so an op name or attribute typo is a compile error; `op()` is the
 * untyped primitive underneath.
 */
export interface Ops {
  Add: {};
  Cast: { to: number };
  Concat: { axis: number };
  Conv: { kernel_shape: number[]; strides: number[] };
  Div: {};
  Equal: {};
  Erf: {};
  Exp: {};
  Expand: {};
  Gather: { axis: number };
  Identity: {};
  If: { then_branch: { graph: GraphBuilder }; else_branch: { graph: GraphBuilder } };
  LayerNormalization: { axis: number; epsilon: { float: number } };
  Less: {};
  Loop: { body: { graph: GraphBuilder } };
  MatMul: {};
  Max: {};
  Mul: {};
  Neg: {};
  ReduceL2: { axes: number[]; keepdims: number };
  ReduceMin: { keepdims: number };
  Reshape: {};
  Shape: {};
  Slice: {};
  Softmax: { axis: number };
  Sub: {};
  Transpose: { perm: number[] };
  Unsqueeze: {};
}

/** `node()`'s trailing arguments: the attributes (required when the op has any), then an output name. */
type NodeArgs<T extends keyof Ops> = {} extends Ops[T] ? [attributes?: Ops[T], outName?: string] : [attributes: Ops[T], outName?: string];

/** ONNX TensorProto element type codes, for Cast. */
export const ONNX_TYPE = { float32: 1, int64: 7 } as const;

export interface IoDef {
  readonly name: string;
  readonly elemType: ElemType;
  /** null: rank unknown (a subgraph value whose shape changes between iterations). */
  readonly shape: readonly Dim[] | null;
}

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: InitializerDef[] = [];
  readonly inputs: IoDef[] = [];
  readonly outputs: IoDef[] = [];
  /** Named intermediate values, in the order they were tapped. */
  readonly taps = new Map<string, { value: Value; elemType: ElemType }>();
  /** Value names are unique across a graph and all its subgraphs, so that no subgraph shadows an outer value. */
  private readonly names: { used: Set<string>; counter: number };

  constructor(
    readonly name: string,
    parent?: GraphBuilder,
  ) {
    this.names = parent ? parent.names : { used: new Set(), counter: 0 };
  }

  /** A graph for a control-flow node's attribute (a Loop body). It may read this graph's values by name. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(this.unique(name), this);
  }

  private unique(base: string): string {
    let name = base;
    while (this.names.used.has(name)) name = `${base}_${++this.names.counter}`;
    this.names.used.add(name);
    return name;
  }

  input(name: string, elemType: ElemType, shape: readonly Dim[] | null): Value {
    const unique = this.unique(name);
    if (unique !== name) throw new Error(`graph ${this.name}: duplicate input ${name}`);
    this.inputs.push({ name, elemType, shape });
    return { name };
  }

  output(value: Value, elemType: ElemType, shape: readonly Dim[] | null, name?: string): void {
    const outName = name ?? value.name;
    const source = outName === value.name ? value : this.op('Identity', [value], {}, outName);
    this.outputs.push({ name: source.name, elemType, shape });
  }

  /** A weight or constant tensor. The data is used as is (no copy). */
  initializer(name: string, data: InitializerDef['data'], dims: readonly number[], elemType?: ElemType): Value {
    const type: ElemType =
      elemType ??
      (data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32' : 'bool');
    let n = 1;
    for (const d of dims) n *= d;
    if (n !== data.length) throw new Error(`initializer ${name}: ${data.length} elements for dims [${dims.join(',')}]`);
    const unique = this.unique(name);
    this.initializers.push({ name: unique, elemType: type, dims: [...dims], data });
    return { name: unique };
  }

  /** Small constants by type and value: each is one initializer, however often the model asks for it. */
  private readonly constants = new Map<string, Value>();

  private constant(elemType: ElemType, values: number | readonly number[], make: (arr: readonly number[]) => InitializerDef['data']): Value {
    const key = `${elemType}:${typeof values === 'number' ? values : `[${values.join(',')}]`}`;
    let value = this.constants.get(key);
    if (!value) {
      const arr = typeof values === 'number' ? [values] : values;
      value = this.initializer(`const_${elemType}`, make(arr), typeof values === 'number' ? [] : [arr.length], elemType);
      this.constants.set(key, value);
    }
    return value;
  }

  /** A scalar or 1-D float32 constant. */
  f32(values: number | readonly number[]): Value {
    return this.constant('float32', values, (arr) => Float32Array.from(arr));
  }

  /** A scalar or 1-D int64 constant (shapes, axes, indices). */
  i64(values: number | readonly number[]): Value {
    return this.constant('int64', values, (arr) => BigInt64Array.from(arr, (v) => BigInt(v)));
  }

  /** A scalar bool constant. */
  bool(value: boolean): Value {
    return this.constant('bool', value ? 1 : 0, (arr) => Uint8Array.from(arr));
  }

  /** Adds one node of an op in `Ops`, with a single output. */
  node<T extends keyof Ops>(opType: T, inputs: readonly (Value | null)[], ...[attributes, outName]: NodeArgs<T>): Value {
    return this.op(opType, inputs, attributes ?? {}, outName);
  }

  /** Adds one node with a single output (untyped: prefer `node()`). */
  op(opType: string, inputs: readonly (Value | null)[], attributes: Record<string, AttrValue> = {}, outName?: string, domain = ''): Value {
    return this.opN(opType, inputs, 1, attributes, outName, domain)[0]!;
  }

  /** Adds one node with `outputs` outputs. A null input is an omitted optional input. */
  opN(
    opType: string,
    inputs: readonly (Value | null)[],
    outputs: number,
    attributes: Record<string, AttrValue> = {},
    outName?: string,
    domain = '',
  ): Value[] {
    const base = outName ?? `${opType.toLowerCase()}`;
    const outs: string[] = [];
    for (let i = 0; i < outputs; i++) outs.push(this.unique(outputs === 1 ? base : `${base}_${i}`));
    this.nodes.push({
      opType,
      domain,
      name: this.unique(`n_${outs[0]}`),
      inputs: inputs.map((v) => (v ? v.name : '')),
      outputs: outs,
      attributes,
    });
    return outs.map((name) => ({ name }));
  }

  /** Records a named intermediate for debug builds. */
  tap(name: string, value: Value, elemType: ElemType = 'float32'): Value {
    this.taps.set(name, { value, elemType });
    return value;
  }

  /** Ops used in the graph, with counts (for inspection tests). */
  opCensus(): Map<string, number> {
    const census = new Map<string, number>();
    for (const n of this.nodes) census.set(n.opType, (census.get(n.opType) ?? 0) + 1);
    return census;
  }
}
