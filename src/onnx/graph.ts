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

  /** A scalar or 1-D float32 constant. */
  f32(values: number | readonly number[], name = 'const_f32'): Value {
    const arr = typeof values === 'number' ? [values] : values;
    return this.initializer(name, Float32Array.from(arr), typeof values === 'number' ? [] : [arr.length], 'float32');
  }

  /** A scalar or 1-D int64 constant (shapes, axes, indices). */
  i64(values: number | readonly number[], name = 'const_i64'): Value {
    const arr = typeof values === 'number' ? [values] : values;
    return this.initializer(name, BigInt64Array.from(arr, (v) => BigInt(v)), typeof values === 'number' ? [] : [arr.length], 'int64');
  }

  /** Adds one node with a single output. */
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
