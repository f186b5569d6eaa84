import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A throwaway PostgreSQL for the server tests, unless LABLOG_TEST_POSTGRES_URL names one.
    globalSetup: ['test/global-setup.ts'],
  },
});
