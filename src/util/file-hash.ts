import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Streams a file (or its first `limit` bytes) into `hash`, in bounded memory. */
export async function hashFileInto(path: string, hash: { update(chunk: Uint8Array): unknown }, limit?: number): Promise<void> {
  if (limit === 0) return;
  const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024, ...(limit === undefined ? {} : { end: limit - 1 }) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** The SHA-256 of a file as lowercase hex, streamed (checkpoints are gigabytes). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashFileInto(path, hash);
  return hash.digest('hex');
}
