/** `vbge serve` option errors: one clear line and exit 2, before the model loads where possible, and nothing listens. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { modelArgs, runCli } from '../helpers/cli.js';
import { MODEL_FILES } from './helpers.js';

describe('vbge serve usage errors', () => {
  test.each([
    [['--index', 'a', '--store', 'postgres://x/y'], /give --index or --store, not both/],
    [['--port', '70000'], /--port must be 0\.\.65535; got "70000"/],
    [['--image-url-hosts', 'bad host!'], /allowed image host "bad host!" must be a host name/],
  ])('%j', async (args, message) => {
    const r = await runCli(['serve', ...modelArgs(MODEL_FILES), '--port', '0', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a missing index is named, and nothing listens', async () => {
    const r = await runCli(['serve', ...modelArgs(MODEL_FILES), '--port', '0', '--index', '/nonexistent/vbge-index']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/vbge-index: no index here/);
    expect(r.stderr).not.toMatch(/listening/);
  });

  test('a port in use is named', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const r = await runCli(['serve', ...modelArgs(MODEL_FILES), '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    } finally {
      taken.close();
    }
  });
});
