import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { preprocessImage } from './src/image/preprocess.js';
const lines = readFileSync('/tmp/x/oracle.jsonl','utf8').trim().split('\n').map(l=>JSON.parse(l));
for (const o of lines) {
  const f = o.file.startsWith('/') ? o.file : '/tmp/x/'+o.file;
  try { const r = await preprocessImage(f); const h = createHash('sha256').update(r.rgb224).digest('hex');
    console.log(o.file.padEnd(34), (o.mode??'').padEnd(5), r.source.format, r.source.mode, h===o.rgb224 ? 'MATCH' : 'DIFF  oracle:'+(o.error??''));
  } catch (e) { console.log(o.file.padEnd(34), (o.mode??'').padEnd(5), 'ERR', (e as Error).constructor.name, (e as Error).message.slice(0,150), '| oracle:', o.error ?? 'ok'); }
}
