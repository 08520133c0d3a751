/** `vbge serve` option errors: one clear line and exit 2, before the model loads where possible, and nothing listens. */
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
});
