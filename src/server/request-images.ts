/** Images as requests carry them (data URIs, or URLs when enabled) into bytes for the encoder. */
import type { EncodeInput } from '../encoder.js';
import { InputError } from '../errors.js';
import type { RequestContext } from './context.js';
import { decodeDataUri, isDataUri } from './data-uri.js';
import type { RequestItem } from './embeddings-request.js';
import { type ItemError, badItemsError, itemError } from './errors.js';

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
