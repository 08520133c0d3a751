import type { SearchHit } from './types.js';

/**
 * A hit as `vbge search --json` and the server's `/v1/search` print it: id, path, text and score
 * first, then the metadata's own fields (a metadata key never hides one of those four).
 */
export function hitJson(hit: SearchHit): Record<string, unknown> {
  const out: Record<string, unknown> = { id: hit.id };
  if (hit.path !== undefined) out['path'] = hit.path;
  if (hit.text !== undefined) out['text'] = hit.text;
  out['score'] = hit.score;
  for (const [key, value] of Object.entries(hit.metadata)) if (!(key in out)) out[key] = value;
  return out;
}
