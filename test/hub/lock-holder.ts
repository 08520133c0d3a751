// Takes a file lock, says so, and holds it until killed: the test SIGKILLs it to leave a stale lock.
import { withFileLock } from '../../src/hub/lock.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: lock-holder.ts LOCK_PATH');
await withFileLock(path, async () => {
  process.stdout.write('locked\n');
  await new Promise(() => setInterval(() => undefined, 60_000));
});
