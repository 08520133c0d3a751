/** Images inside JSON: base64 data URIs (`data:image/png;base64,…`). */
import { InputError } from '../errors.js';

const HEADER = /^data:([a-z]+\/[a-z0-9.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isDataUri(value: string): boolean {
  return value.startsWith('data:');
}

/** The bytes of a base64 data URI; anything else is an InputError naming `name`. */
export function decodeDataUri(value: string, name: string): Uint8Array {
  const header = HEADER.exec(value);
  if (!header) throw new InputError(name, 'must be a base64 data URI such as "data:image/png;base64,iVBOR…"');
  const mediaType = header[1]?.toLowerCase();
  if (mediaType !== undefined && !mediaType.startsWith('image/') && mediaType !== 'application/octet-stream')
    throw new InputError(name, `data URI media type ${mediaType} is not an image`);
  const payload = value.slice(header[0].length);
  if (payload.length === 0) throw new InputError(name, 'the data URI holds no bytes');
  if (!BASE64.test(payload)) throw new InputError(name, 'the data URI is not valid base64');
  return new Uint8Array(Buffer.from(payload, 'base64'));
}
