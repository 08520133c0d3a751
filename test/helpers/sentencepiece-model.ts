/**
 * SentencePiece's model file (`sentencepiece.bpe.model`, a ModelProto protobuf), written for the
 * random XLM-R text folder so that upstream's slow XLMRobertaTokenizer can load it, and read back
 * by the tests. Only the fields a Unigram model with XLM-R's settings uses.
 */

/** SentencePiece.Type */
export const PIECE_TYPE = { normal: 1, unknown: 2, control: 3 } as const;

export interface SentencePiece {
  readonly piece: string;
  readonly score: number;
  readonly type: number;
}

export interface SentencePieceModel {
  readonly pieces: readonly SentencePiece[];
  /** NormalizerSpec.name, e.g. `nmt_nfkc`. */
  readonly normalizerName: string;
  readonly charsmap: Uint8Array;
  /** TrainerSpec.model_type: 1 = UNIGRAM. */
  readonly modelType: number;
}

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array | string): this {
    const b = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    this.tag(field, 2);
    this.rawVarint(b.length);
    this.parts.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number): void {
    const out: number[] = [];
    // int32 fields hold negative values as 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    this.parts.push(Uint8Array.from(out));
  }
}

export function encodeSentencePieceModel(m: SentencePieceModel): Uint8Array {
  const w = new ProtoWriter();
  for (const p of m.pieces) {
    const piece = new ProtoWriter().bytes(1, p.piece).float(2, p.score);
    if (p.type !== PIECE_TYPE.normal) piece.varint(3, p.type);
    w.bytes(1, piece.finish());
  }
  // TrainerSpec: model_type, vocab_size, and XLM-R's special ids (unk 0, bos 1, eos 2, no pad).
  w.bytes(2, new ProtoWriter().varint(3, m.modelType).varint(4, m.pieces.length).varint(40, 0).varint(41, 1).varint(42, 2).varint(43, -1).finish());
  // NormalizerSpec: add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces, as XLM-R's.
  w.bytes(3, new ProtoWriter().bytes(1, m.normalizerName).bytes(2, m.charsmap).varint(3, 1).varint(4, 1).varint(5, 1).finish());
  return w.finish();
}

class ProtoReader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.b.length;
  }
  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = this.b[this.pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  }
  /** Returns [field, value]: a bigint (varint), a number (fixed32 float) or bytes. */
  next(): [number, bigint | number | Uint8Array] {
    const tag = Number(this.varint());
    const wire = tag & 7;
    if (wire === 0) return [tag >>> 3, this.varint()];
    if (wire === 5) {
      const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getFloat32(0, true);
      this.pos += 4;
      return [tag >>> 3, v];
    }
    if (wire === 2) {
      const n = Number(this.varint());
      const v = this.b.subarray(this.pos, this.pos + n);
      this.pos += n;
      return [tag >>> 3, v];
    }
    throw new Error(`unexpected protobuf wire type ${wire}`);
  }
}

export function decodeSentencePieceModel(bytes: Uint8Array): SentencePieceModel {
  const text = (v: unknown): string => new TextDecoder().decode(v as Uint8Array);
  const pieces: SentencePiece[] = [];
  let normalizerName = '';
  let charsmap: Uint8Array = new Uint8Array(0);
  let modelType = 1;
  for (const r = new ProtoReader(bytes); !r.done; ) {
    const [field, value] = r.next();
    if (field === 1) {
      const p = { piece: '', score: 0, type: PIECE_TYPE.normal as number };
      for (const s = new ProtoReader(value as Uint8Array); !s.done; ) {
        const [f, v] = s.next();
        if (f === 1) p.piece = text(v);
        else if (f === 2) p.score = v as number;
        else if (f === 3) p.type = Number(v);
      }
      pieces.push(p);
    } else if (field === 2) {
      for (const s = new ProtoReader(value as Uint8Array); !s.done; ) {
        const [f, v] = s.next();
        if (f === 3) modelType = Number(v);
      }
    } else if (field === 3) {
      for (const s = new ProtoReader(value as Uint8Array); !s.done; ) {
        const [f, v] = s.next();
        if (f === 1) normalizerName = text(v);
        else if (f === 2) charsmap = v as Uint8Array;
      }
    }
  }
  return { pieces, normalizerName, charsmap, modelType };
}
