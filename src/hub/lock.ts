import { createHash, randomUUID } from 'node:crypto';
import { link, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { makeDirs } from '../util/fs.js';

/** A lock untouched for this long belongs to a holder that stopped without releasing it. */
const STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const POLL_MS = 200;

/**
 * Runs `fn` while holding an exclusive lock file, so that two processes (or two calls in one
 * process) never append to the same partial download.
 *
 * The lock file holds its owner's token (host, pid, random id) and appears whole or not at all
 * (a hard link of a finished file). Every change to a lock that exists — a waiter taking over a
 * stale one, the owner releasing its own — is a compare-and-swap: it first claims the token's
 * claim file (exclusive create), then re-reads the lock, and changes it only while it still holds
 * the token that was judged. Two waiters can therefore never both take over one stale lock, and
 * a release never deletes a lock that someone else has taken over meanwhile.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  makeDirs(dirname(path));
  const token = `${hostname()} ${process.pid} ${randomUUID()}`;
  await acquire(path, token);
  // The holder refreshes the lock's mtime; a holder on another host is judged by it.
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await swapIf(path, token, undefined);
  }
}

async function acquire(path: string, token: string): Promise<void> {
  for (;;) {
    if (await createExclusive(path, token)) return;
    const held = await readToken(path);
    if (held === undefined) continue; // released between our two steps
    if ((await isStale(path, held)) && (await swapIf(path, held, token))) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Creates `path` holding `content`, or returns false when it exists; readers never see it half written. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const draft = `${path}.${randomUUID()}.draft`;
  await writeFile(draft, content);
  try {
    await link(draft, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/**
 * Replaces the lock by `next` (or deletes it for `undefined`) only if it still holds `expected`.
 * Tokens are never reused, so once the lock has moved on from `expected` it never holds it again:
 * whoever claims `expected`'s claim file later re-reads, sees the change and backs off.
 */
async function swapIf(path: string, expected: string, next: string | undefined): Promise<boolean> {
  const claim = claimPath(path, expected);
  if (!(await createExclusive(claim, `${hostname()} ${process.pid} ${randomUUID()}`))) {
    await clearAbandonedClaim(claim);
    return false;
  }
  try {
    if ((await readToken(path)) !== expected) return false;
    if (next === undefined) {
      await unlink(path);
    } else {
      const draft = `${path}.${randomUUID()}.draft`;
      await writeFile(draft, next);
      await rename(draft, path);
    }
    return true;
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

function claimPath(path: string, token: string): string {
  return `${path}.claim-${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

/**
 * A claim is held for a read and a rename; one still there after STALE_MS, or whose creator on
 * this host is gone, was left by a process killed in that instant. Renaming it away first makes
 * sure only one waiter removes it.
 */
async function clearAbandonedClaim(claim: string): Promise<void> {
  const owner = await readToken(claim);
  if (owner === undefined || !(await isStale(claim, owner))) return;
  const moved = `${claim}.${randomUUID()}.abandoned`;
  try {
    await rename(claim, moved);
  } catch {
    return; // someone else cleared it
  }
  await unlink(moved).catch(() => undefined);
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A holder on this host is judged by whether its process lives; one elsewhere by its heartbeat. */
async function isStale(path: string, token: string): Promise<boolean> {
  const [host, pidText] = token.split(' ');
  const pid = Number(pidText);
  if (host === hostname() && Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) return true;
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_MS;
  } catch {
    return false; // gone meanwhile: the next attempt creates it
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
