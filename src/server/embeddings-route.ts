/**
 * POST /v1/embeddings: OpenAI's embeddings API over the encoder, with images and composed
 * inputs as items `{ text?, image? }`. A request is answered whole or refused whole: the first
 * bad item is named in the message, all of them in `error.items`.
 */
import type { FastifyInstance } from 'fastify';
import type { EncodeInput, Encoder } from '../encoder.js';
import { InputError } from '../errors.js';
import type { RequestContext } from './context.js';
import { decodeDataUri, isDataUri } from './data-uri.js';
import { type ItemError, badItemsError, itemError } from './errors.js';
import { type RequestItem, parseEmbeddingsRequest } from './embeddings-request.js';

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

/** Images into bytes (data URIs decoded, URLs fetched when enabled); errors collected per item. */
export async function resolveItems(ctx: RequestContext, items: readonly RequestItem[], signal: AbortSignal): Promise<EncodeInput[]> {
  const failed: ItemError[] = [];
  const inputs = await Promise.all(
    items.map(async (item, i): Promise<EncodeInput> => {
      const name = `input[${i}]`;
      try {
        const image = item.image === undefined ? undefined : await resolveImage(ctx, item.image, `${name}.image`, signal);
        return { ...(item.text !== undefined ? { text: item.text } : {}), ...(image ? { image } : {}), name };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (!(err instanceof InputError)) throw err;
        failed.push(itemError(i, err));
        return { name };
      }
    }),
  );
  if (failed.length > 0) throw badItemsError('input', failed.sort((a, b) => a.index - b.index));
  return inputs;
}

export async function resolveImage(ctx: RequestContext, image: string, name: string, signal: AbortSignal): Promise<Uint8Array> {
  if (isDataUri(image)) return decodeDataUri(image, name);
  if (/^https?:\/\//i.test(image)) {
    if (!ctx.imageUrls) throw new InputError(name, 'image URLs are not enabled on this server (vbge serve --image-url-hosts); send a data URI');
    return ctx.imageUrls.fetch(image, name, signal);
  }
  throw new InputError(name, 'must be a base64 data URI such as "data:image/png;base64,iVBOR…"');
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
