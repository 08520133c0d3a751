import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/hub/lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vbge-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `n` contenders at once; each records how many were inside the lock with it. */
async function contend(path: string, n: number): Promise<{ ran: number; mostInside: number }> {
  let inside = 0;
  let mostInside = 0;
  let ran = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      withFileLock(path, async () => {
        inside++;
        mostInside = Math.max(mostInside, inside);
        await new Promise((r) => setTimeout(r, 5));
        ran++;
        inside--;
      }),
    ),
  );
  return { ran, mostInside };
}

/** The pid of a process that has exited: a lock naming it is known dead on this host. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('withFileLock', () => {
  it('lets one contender in at a time and leaves nothing behind', async () => {
    const path = join(dir, 'a.lock');
    expect(await contend(path, 12)).toEqual({ ran: 12, mostInside: 1 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('hands a lock left by a dead process on this host to exactly one of many waiters at a time', async () => {
    const path = join(dir, 'a.lock');
    await writeFile(path, `${hostname()} ${await deadPid()} left-behind`);
    expect(await contend(path, 8)).toEqual({ ran: 8, mostInside: 1 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock from another host only once its heartbeat is older than the stale limit', async () => {
    const path = join(dir, 'a.lock');
    await writeFile(path, 'another-host 1 old');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    expect(await contend(path, 3)).toEqual({ ran: 3, mostInside: 1 });

    await writeFile(path, 'another-host 1 fresh');
    let ran = false;
    const waiting = withFileLock(path, async () => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 1_000)); // several polls: the live lock must hold them off
    expect(ran).toBe(false);
    await rm(path);
    await waiting;
    expect(ran).toBe(true);
  });

  it('does not delete, on release, a lock that another holder has taken over meanwhile', async () => {
    const path = join(dir, 'a.lock');
    await withFileLock(path, async () => {
      await writeFile(path, 'another-host 1 new-owner');
    });
    expect(await readFile(path, 'utf8')).toBe('another-host 1 new-owner');
  });

  it('clears a takeover claim abandoned by a killed waiter', async () => {
    const path = join(dir, 'a.lock');
    await writeFile(path, `${hostname()} ${await deadPid()} left-behind`);
    // a waiter killed between claiming the stale token and replacing the lock
    const { createHash } = await import('node:crypto');
    const claim = `${path}.claim-${createHash('sha256').update(await readFile(path, 'utf8')).digest('hex').slice(0, 16)}`;
    await writeFile(claim, `${hostname()} ${await deadPid()} claimer`);
    expect(await contend(path, 3)).toEqual({ ran: 3, mostInside: 1 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves a lock held by a process killed with SIGKILL to the next one, at once', async () => {
    const path = join(dir, 'a.lock');
    const holder = spawn(process.execPath, ['--import', 'tsx', new URL('./lock-holder.ts', import.meta.url).pathname, path]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      holder.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect((await readFile(path, 'utf8')).split(' ')[1]).toBe(String(holder.pid));
    expect(await contend(path, 3)).toEqual({ ran: 3, mostInside: 1 });
  });
});
