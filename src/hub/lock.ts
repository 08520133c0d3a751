import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirs } from '../util/fs.js';

/** A lock untouched for this long belongs to a process that died without releasing it. */
const STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const POLL_MS = 200;

/**
 * Runs `fn` while holding an exclusive lock file, so that two processes (or two calls in one
 * process) never append to the same partial download. The holder refreshes the file's mtime;
 * a waiter takes over a lock whose holder stopped refreshing it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  makeDirs(dirname(path));
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(path)) await rm(path, { force: true });
      else await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await rm(path, { force: true });
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [info, pidText] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) return true;
    return Date.now() - info.mtimeMs > STALE_MS;
  } catch {
    return false; // released between our attempts: just retry
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
