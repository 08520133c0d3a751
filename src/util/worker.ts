/** Starting a worker thread on an entry module that sits next to the module starting it. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts `<entry>.js` beside `callerUrl` when running compiled code, or `<entry>.ts` when running
 * from sources (vitest, tsx). Loader hooks registered with `--import` do not reach worker threads
 * on Node 20, so from sources the worker installs tsx's synchronous require hook itself and loads
 * the TypeScript entry through it.
 */
export function startEntryWorker(callerUrl: string, entry: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${entry}.js`, callerUrl));
  const tsxRequireHook = createRequire(callerUrl).resolve('tsx/cjs');
  const source = fileURLToPath(new URL(`./${entry}.ts`, callerUrl));
  return new Worker(`require(${JSON.stringify(tsxRequireHook)}); require(${JSON.stringify(source)});`, { eval: true });
}
