import { defineConfig } from 'vitest/config';

/**
 * Two groups, both run by `npm test` (the README's one test command): `fast`, and `slow` — the
 * heavy cases (full-width determinism, a 200 MB JSONL line, six concurrent cold caches, the
 * 250k-piece vocabulary, processes contending for a download), files named `*.slow.test.ts`.
 * `npm run test:fast` runs the first alone while developing. No test asserts on wall-clock time:
 * this host is shared, so limits are generous timeouts.
 */
const SLOW = 'test/**/*.slow.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // ONNX Runtime sessions and sharp are native; forks isolate them cleanly.
    pool: 'forks',
    setupFiles: ['test/setup-env.ts'],
    // A test that asserts nothing cannot fail: vitest fails it instead.
    expect: { requireAssertions: true },
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: [SLOW] } },
      { extends: true, test: { name: 'slow', include: [SLOW], testTimeout: 900_000, hookTimeout: 900_000 } },
    ],
  },
});
