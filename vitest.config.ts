import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // ONNX Runtime sessions and sharp are native; forks isolate them cleanly.
    pool: 'forks',
    setupFiles: ['test/setup-env.ts'],
    // A test that asserts nothing cannot fail: vitest fails it instead.
    expect: { requireAssertions: true },
  },
});
