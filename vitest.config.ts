import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A throwaway PostgreSQL for the server tests, unless LABLOG_TEST_POSTGRES_URL names one.
    globalSetup: ['test/global-setup.ts'],
    // The default report, then one line on the PostgreSQL/Chromium tests skipped (none in CI, where they must run).
    reporters: ['default', './test/support/skipped-summary.ts'],
  },
});
