/**
 * The Visualized BGE state-dict layout, written out independently of src/ from the fixture READMEs
 * and spec §6.1, for comparing key order and shapes.
 */
export interface TinyDims {
  hidden: number;
  layers: number;
  intermediate: number;
  vocab: number;
  maxPos: number;
  typeVocab: number;
  visionWidth: number;
  blocks: number;
  swiglu: number;
  patch: number;
  patches: number;
  ropeDim: number;
  clipEmbed: number;
}

export function expectedVisualizedLayout(d: TinyDims): [string, number[]][] {
  const out: [string, number[]][] = [];
  const W = d.hidden;
  for (let i = 0; i < d.layers; i++) {
    const l = `bge_encoder.layer.${i}.`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      out.push([`${l}${m}.weight`, [W, W]], [`${l}${m}.bias`, [W]]);
    }
    out.push([`${l}attention.output.LayerNorm.weight`, [W]], [`${l}attention.output.LayerNorm.bias`, [W]]);
    out.push([`${l}intermediate.dense.weight`, [d.intermediate, W]], [`${l}intermediate.dense.bias`, [d.intermediate]]);
    out.push([`${l}output.dense.weight`, [W, d.intermediate]], [`${l}output.dense.bias`, [W]]);
    out.push([`${l}output.LayerNorm.weight`, [W]], [`${l}output.LayerNorm.bias`, [W]]);
  }
  out.push(
    ['bge_embeddings.word_embeddings.weight', [d.vocab, W]],
    ['bge_embeddings.position_embeddings.weight', [d.maxPos, W]],
    ['bge_embeddings.token_type_embeddings.weight', [d.typeVocab, W]],
    ['bge_embeddings.LayerNorm.weight', [W]],
    ['bge_embeddings.LayerNorm.bias', [W]],
    ['bge_pooler.dense.weight', [W, W]],
    ['bge_pooler.dense.bias', [W]],
  );
  const V = d.visionWidth;
  const v = 'model_visual.visual.';
  out.push(
    ['model_visual.logit_scale', []],
    [`${v}cls_token`, [1, 1, V]],
    [`${v}pos_embed`, [1, d.patches + 1, V]],
    [`${v}patch_embed.proj.weight`, [V, 3, d.patch, d.patch]],
    [`${v}patch_embed.proj.bias`, [V]],
    [`${v}rope.freqs_cos`, [d.patches, d.ropeDim]],
    [`${v}rope.freqs_sin`, [d.patches, d.ropeDim]],
  );
  for (let i = 0; i < d.blocks; i++) {
    const b = `${v}blocks.${i}.`;
    out.push(
      [`${b}norm1.weight`, [V]],
      [`${b}norm1.bias`, [V]],
      [`${b}attn.q_bias`, [V]],
      [`${b}attn.v_bias`, [V]],
      [`${b}attn.q_proj.weight`, [V, V]],
      [`${b}attn.k_proj.weight`, [V, V]],
      [`${b}attn.v_proj.weight`, [V, V]],
      [`${b}attn.inner_attn_ln.weight`, [V]],
      [`${b}attn.inner_attn_ln.bias`, [V]],
      [`${b}attn.proj.weight`, [V, V]],
      [`${b}attn.proj.bias`, [V]],
      [`${b}attn.rope.freqs_cos`, [d.patches, d.ropeDim]],
      [`${b}attn.rope.freqs_sin`, [d.patches, d.ropeDim]],
      [`${b}norm2.weight`, [V]],
      [`${b}norm2.bias`, [V]],
      [`${b}mlp.w1.weight`, [d.swiglu, V]],
      [`${b}mlp.w1.bias`, [d.swiglu]],
      [`${b}mlp.w2.weight`, [d.swiglu, V]],
      [`${b}mlp.w2.bias`, [d.swiglu]],
      [`${b}mlp.ffn_ln.weight`, [d.swiglu]],
      [`${b}mlp.ffn_ln.bias`, [d.swiglu]],
      [`${b}mlp.w3.weight`, [V, d.swiglu]],
      [`${b}mlp.w3.bias`, [V]],
    );
  }
  out.push(
    [`${v}norm.weight`, [V]],
    [`${v}norm.bias`, [V]],
    [`${v}head.weight`, [d.clipEmbed, V]],
    [`${v}head.bias`, [d.clipEmbed]],
    ['visual_proj.weight', [W, W]],
    ['visual_proj.bias', [W]],
  );
  return out;
}

/** tiny-bert (and tiny-bert-fp16): README "Model configuration". */
export const TINY_BERT: TinyDims = {
  hidden: 32,
  layers: 2,
  intermediate: 64,
  vocab: 249,
  maxPos: 512,
  typeVocab: 2,
  visionWidth: 32,
  blocks: 2,
  swiglu: 85,
  patch: 16,
  patches: 196,
  ropeDim: 16,
  clipEmbed: 16,
};

/** tiny-xlmr: its text/config.json and vision_config.json. */
export const TINY_XLMR: TinyDims = {
  hidden: 48,
  layers: 3,
  intermediate: 96,
  vocab: 235,
  maxPos: 514,
  typeVocab: 1,
  visionWidth: 48,
  blocks: 2,
  swiglu: 128,
  patch: 14,
  patches: 256,
  ropeDim: 16,
  clipEmbed: 24,
};

/** Round-to-nearest-even of a float32 value to the nearest float16 value, by arithmetic. */
export function roundToFloat16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a >= 65520) return sign * Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const quantum = 2 ** (Math.max(e, -14) - 10);
  const m = a / quantum;
  let r = Math.floor(m);
  const frac = m - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r++;
  return sign * r * quantum;
}
