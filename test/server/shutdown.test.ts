/**
 * `vbge serve` as a process: SIGTERM with a request in flight stops new connections, lets the
 * request finish, and exits 0; a request that outlives --shutdown-grace is cut and the process
 * still exits 0 within the bound. The request is held in flight by an image URL pointing at a
 * local server that answers when the test says so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Encoder } from '../../src/encoder.js';
import { fixturePath } from '../helpers/fixtures.js';
import { modelArgs } from '../helpers/cli.js';
import { MODEL_FILES, localHttpServer, postJson, sameBits } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PNG = readFileSync(fixturePath('tiny-bert', '../images/synth_small_50x40.png'));

interface Served {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(extra: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/cli/run.ts'), 'serve', ...modelArgs(MODEL_FILES), '--port', '0', '--threads', '1', ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return new Promise((ready, fail) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) ready({ child, url, stdout: () => stdout, exit });
    });
    void exit.then(({ code }) => fail(new Error(`vbge serve exited ${code} before listening: ${stderr}`)));
  });
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
};

let release: () => void = () => undefined;
const gate = new Promise<void>((r) => (release = r));
let images: Awaited<ReturnType<typeof localHttpServer>>;
let encoder: Encoder;
beforeAll(async () => {
  // Loading here also fills the graph cache (VBGE_CACHE_DIR) the served processes inherit.
  encoder = await Encoder.load({ ...MODEL_FILES, threads: 1 });
  images = await localHttpServer((req, res) => {
    if (req.url === '/never') return;
    void gate.then(() => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  });
});
afterAll(async () => {
  release();
  await images?.close();
  await encoder?.close();
});

const urlOptions = ['--image-url-hosts', '127.0.0.1', '--image-url-allow-addresses', '127.0.0.1/32'];

// Each test starts a process (module loading through tsx takes seconds on a busy machine).
describe('graceful shutdown', { timeout: 120_000 }, () => {
  test('SIGTERM: no new connections, the request in flight completes with the right vector, exit 0', async () => {
    const served = await serve([...urlOptions, '--shutdown-grace', '30']);
    const inFlight = postJson(`${served.url}/v1/embeddings`, { input: [{ image: `${images.url}/held.png`, text: 'white' }, 'and a text'] });
    await until(() => images.hits() >= 1);
    served.child.kill('SIGTERM');
    await until(() => served.stdout().includes('"event":"shutdown"'));
    const refused = await fetch(`${served.url}/health`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
    release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    const expected = await encoder.encode([{ image: PNG, text: 'white' }, { text: 'and a text' }]);
    answer.json.data.forEach((d: { embedding: number[] }, i: number) => expect(sameBits(d.embedding, expected[i]!)).toBe(true));
    expect(await served.exit).toEqual({ code: 0, signal: null });
    expect(served.stdout()).toContain('"event":"stopped"');
  });

  test('a request that outlives --shutdown-grace is cut; the process still exits 0 within the bound', async () => {
    const served = await serve([...urlOptions, '--shutdown-grace', '1']);
    const stuck = postJson(`${served.url}/v1/embeddings`, { input: [{ image: `${images.url}/never` }] }).then(
      (r) => r.status,
      () => 'cut',
    );
    const before = images.hits();
    await until(() => images.hits() > before);
    served.child.kill('SIGINT');
    expect(await served.exit).toEqual({ code: 0, signal: null });
    expect(await stuck).toBe('cut');
    expect(served.stdout()).toContain('"event":"shutdown-forced"');
  });
});
