// Tests never write into the user's caches: converted graphs go to a throwaway folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env['VBGE_CACHE_DIR'] ??= mkdtempSync(join(tmpdir(), 'vbge-test-cache-'));
