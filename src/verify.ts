/**
 * `vbge verify`: checks on this machine that the embeddings of a model do not depend on how
 * they are computed (repetition, batch size, batch composition, thread count), and prints a
 * fingerprint that identifies the model + runtime + CPU dispatch path + canary embeddings.
 */
import { createHash } from 'node:crypto';
import { canaryInputs } from './canaries.js';
import type { EncodeInput, Encoder } from './encoder.js';
import type { Provenance } from './runtime/provenance.js';

export interface VerifyCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checks: VerifyCheck[];
  readonly fingerprint: Provenance & { readonly canarySha256: string; readonly canaryCount: number };
}

function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function hashEmbeddings(vectors: readonly Float32Array[]): string {
  const h = createHash('sha256');
  for (const v of vectors) h.update(bytesOf(v));
  return h.digest('hex');
}

function compare(name: string, inputs: readonly EncodeInput[], expected: readonly Float32Array[], actual: readonly Float32Array[]): VerifyCheck {
  const differing = expected.flatMap((v, i) => (Buffer.compare(bytesOf(v), bytesOf(actual[i]!)) === 0 ? [] : [inputs[i]!.name ?? `input ${i}`]));
  return { name, ok: differing.length === 0, detail: differing.length === 0 ? `${expected.length} embeddings bitwise equal` : `differs for ${differing.join(', ')}` };
}

/**
 * Loads the model with `threads` (at least 2) and runs the canaries every way; then loads it again
 * with 1 thread (after releasing the first, so memory never holds two copies) and compares.
 */
export async function verifyEncoder(load: (threads: number) => Promise<Encoder>, threads: number): Promise<VerifyReport> {
  const inputs = await canaryInputs();
  const many = Math.max(2, threads);
  const primary = await load(many);
  const checks: VerifyCheck[] = [];
  let reference: Float32Array[];
  let provenance: Provenance;
  try {
    reference = await primary.encode(inputs, { batchSize: 16 });
    checks.push(compare('repeatable (same call twice)', inputs, reference, await primary.encode(inputs, { batchSize: 16 })));
    const alone: Float32Array[] = [];
    for (const input of inputs) alone.push((await primary.encode([input], { batchSize: 1 }))[0]!);
    checks.push(compare('batch-invariant (each alone vs all in one batch)', inputs, reference, alone));
    const order = inputs.map((_, i) => i).reverse();
    const reversed = await primary.encode(order.map((i) => inputs[i]!), { batchSize: 4 });
    checks.push(compare('composition-invariant (reversed order, batch size 4)', inputs, reference, order.map((_, k) => reversed[order.indexOf(k)]!)));
    provenance = await primary.provenance();
  } finally {
    await primary.close();
  }
  const single = await load(1);
  try {
    checks.push(compare(`thread-invariant (1 thread vs ${many})`, inputs, reference, await single.encode(inputs, { batchSize: 16 })));
  } finally {
    await single.close();
  }
  return {
    ok: checks.every((c) => c.ok),
    checks,
    fingerprint: { ...provenance, canarySha256: hashEmbeddings(reference), canaryCount: inputs.length },
  };
}
