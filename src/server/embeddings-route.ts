/**
 * POST /v1/embeddings: OpenAI's embeddings API over the encoder, with images and composed
 * inputs as items `{ text?, image? }`. A request is answered whole or refused whole: the first
 * bad item is named in the message, all of them in `error.items`.
 */
import type { FastifyInstance } from 'fastify';
import type { Encoder } from '../encoder.js';
import type { RequestContext } from './context.js';
import { type ItemError, badItemsError, itemError } from './errors.js';
import { type RequestItem, parseEmbeddingsRequest } from './embeddings-request.js';
import { resolveItems } from './request-images.js';

export function registerEmbeddingsRoute(app: FastifyInstance, ctx: RequestContext): void {
  const imageTokens = ctx.encoder.tokenLimit(false) - ctx.encoder.tokenLimit(true);
  app.post('/v1/embeddings', { onRequest: ctx.refuseWhenFull }, async (request, reply) => {
    const parsed = parseEmbeddingsRequest(request.body, {
      maxItemsPerRequest: ctx.limits.maxItemsPerRequest,
      dim: ctx.encoder.dim,
      modelNames: ctx.modelNames,
    });
    ctx.noteItems(request, parsed.items.length);
    const embeddings = await ctx.runAdmitted(reply, parsed.items.length, async (signal) => {
      const inputs = await resolveItems(ctx, parsed.items, signal);
      const results = await ctx.queue.embed(inputs, { truncate: parsed.truncate, signal });
      const failed: ItemError[] = [];
      results.forEach((r, i) => {
        if (!r.ok) failed.push(itemError(i, r.error));
      });
      if (failed.length > 0) throw badItemsError('input', failed);
      return results.map((r) => (r.ok ? r.embedding : new Float32Array(0)));
    });
    parsed.items.forEach((item) => ctx.metrics.itemsEmbedded.inc({ kind: kindOf(item) }));
    const promptTokens = parsed.items.reduce((sum, item) => sum + tokenCount(ctx.encoder, item, parsed.truncate, imageTokens), 0);
    void reply.header('content-type', 'application/json; charset=utf-8');
    return {
      object: 'list',
      data: embeddings.map((embedding, index) => ({
        object: 'embedding',
        index,
        embedding: parsed.encodingFormat === 'base64' ? float32Base64(embedding) : Array.from(embedding),
      })),
      model: parsed.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
}

function kindOf(item: RequestItem): 'text' | 'image' | 'composed' {
  return item.image === undefined ? 'text' : item.text === undefined ? 'image' : 'composed';
}

/** What OpenAI calls prompt tokens: the text's tokens (CLS and SEP included) plus the image's tokens. */
function tokenCount(encoder: Encoder, item: RequestItem, truncate: boolean, imageTokens: number): number {
  const withImage = item.image !== undefined;
  const text = encoder.tokenizer.encode(item.text ?? '', { maxTokens: encoder.tokenLimit(withImage), truncate }).length;
  return text + (withImage ? imageTokens : 0);
}

/** OpenAI's base64 format: the float32 values' little-endian bytes. */
function float32Base64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}
