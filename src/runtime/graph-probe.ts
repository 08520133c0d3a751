/**
 * The check process of the graph cache's stage 2, started by graph-cache.ts as its own process:
 * loads each given graph's optimised file from <dir>, runs the probe feeds (JSON on stdin) and
 * prints {graph: sha256 of the outputs}. A separate process, because a bad prepacked file crashes
 * ONNX Runtime (1.30 on the L/14 vision tower's), and that must not take the loading process down.
 *
 * argv: <dir> <session options JSON>
 *
 * VBGE_TEST_PROBE_FAULT=<graph>:<fault> makes the check of one graph fail for real, so that the
 * tests exercise every decision the loading process takes on the outcome: `crash` (the process
 * dies of SIGSEGV, as ORT does), `mismatch` (a real run on other inputs), `error` (an ordinary
 * failure, exit 3), `killed` (SIGKILL, as the out-of-memory killer does).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GraphName, type ProbeFeeds, outputHash } from './probe-feeds.js';
import { ort } from './session.js';

type Fault = 'crash' | 'mismatch' | 'error' | 'killed';

function faultFor(graph: string): Fault | undefined {
  const [target, fault] = (process.env['VBGE_TEST_PROBE_FAULT'] ?? '').split(':');
  return target === graph ? (fault as Fault) : undefined;
}

async function main(): Promise<void> {
  const [dir, optionsJson] = process.argv.slice(2);
  if (dir === undefined || optionsJson === undefined) throw new Error('usage: graph-probe <dir> <session options JSON>');
  const feeds = JSON.parse(readFileSync(0, 'utf8')) as Partial<ProbeFeeds>;
  const result: Partial<Record<GraphName, string>> = {};
  for (const [graph, inputs] of Object.entries(feeds) as [GraphName, ProbeFeeds[GraphName]][]) {
    const session = await ort.InferenceSession.create(join(dir, `${graph}.opt.onnx`), JSON.parse(optionsJson) as object);
    const fault = faultFor(graph);
    if (fault === 'crash') process.kill(process.pid, 'SIGSEGV');
    if (fault === 'killed') process.kill(process.pid, 'SIGKILL');
    if (fault === 'error') throw new Error(`test fault in the ${graph} check`);
    const [first, ...rest] = Object.entries(inputs);
    const run =
      fault === 'mismatch' && first !== undefined
        ? { ...Object.fromEntries(rest), [first[0]]: { ...first[1], data: first[1].data.map((v) => v + 1) } }
        : inputs;
    result[graph] = await outputHash(session, run);
    await session.release();
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((err: unknown) => {
  process.stderr.write(String(err));
  process.exit(3);
});
