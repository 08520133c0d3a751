import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { preprocessImage } from './src/image/preprocess.js';
const list = JSON.parse(readFileSync('/tmp/x/rand.json','utf8'));
let bad = 0;
for (const o of list) {
  const f = '/tmp/x/'+o.file;
  const h = (u: Uint8Array) => createHash('sha256').update(u).digest('hex');
  try { const r = await preprocessImage(f); if (h(r.rgb224) !== o.rgb224) { bad++; console.log('DIFF', o.file, r.source.mode); }
    if (o.exif) { const e = await preprocessImage(f, { applyExifOrientation: true }); if (h(e.rgb224) !== o.exif) { bad++; console.log('EXIF DIFF', o.file); } }
  } catch (e) { bad++; console.log('ERR', o.file, (e as Error).message); }
}
console.log('checked', list.length, 'bad', bad);
