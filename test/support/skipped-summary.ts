// Test support: a vitest reporter that ends a run with one line naming the PostgreSQL and Chromium tests it skipped.
//
// Those tests skip themselves when there is no PostgreSQL (LABLOG_TEST_POSTGRES_URL, or a local PostgreSQL 15 for
// test/global-setup.ts to start) or no Chromium; a plain `npm test` on a laptop would otherwise drop ~80 tests
// with only a warning scrolled far up. In CI (LABLOG_REQUIRE_POSTGRES=1, LABLOG_REQUIRE_CHROMIUM=1) they fail
// instead of skipping, and this prints nothing.

import { existsSync, readFileSync } from 'node:fs';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { CHROMIUM } from './chromium-path.js';

/** A test file needs PostgreSQL when it imports one of these support modules, Chromium when it imports the other. */
const NEEDS_POSTGRES = /from '\.\/support\/(postgres|server-process)\.js'/;
const NEEDS_CHROMIUM = /from '\.\/support\/browser\.js'/;

export default class SkippedSummary implements Reporter {
  #filtered = false;

  onInit(vitest: Vitest): void {
    // Under -t, tests skipped by the filter cannot be told apart: say nothing.
    this.#filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.#filtered) return;
    let skipped = 0;
    let files = 0;
    let postgresSkipped = false;
    for (const module of testModules) {
      const source = readFileSync(module.moduleId, 'utf8');
      const postgres = NEEDS_POSTGRES.test(source);
      const chromium = NEEDS_CHROMIUM.test(source);
      if (!postgres && !chromium) continue;
      let here = 0;
      for (const test of module.children.allTests()) if (test.result().state === 'skipped') here++;
      skipped += here;
      if (here > 0) files++;
      if (here > 0 && postgres && !chromium) postgresSkipped = true;
    }
    if (skipped === 0) return;
    // These files skip nothing else: a skip in a PostgreSQL-only file means PostgreSQL was missing.
    const chromiumMissing = !existsSync(CHROMIUM);
    const missing = [
      postgresSkipped
        ? process.env['LABLOG_TEST_POSTGRES_URL']
          ? 'no PostgreSQL answered at LABLOG_TEST_POSTGRES_URL'
          : 'no PostgreSQL'
        : null,
      chromiumMissing ? `no Chromium at ${CHROMIUM}` : null,
    ].filter(Boolean);
    const remedies = [
      // The SQLite+PostgreSQL server tests have no PostgreSQL case to skip without one: they are not in the count.
      postgresSkipped
        ? 'set LABLOG_TEST_POSTGRES_URL (scripts/test-postgres.sh start DIR PORT prints one) or apt-get install -y postgresql (the PostgreSQL runs of the server tests, not counted here, come too)'
        : null,
      chromiumMissing ? 'apt-get install -y chromium (or set LABLOG_CHROMIUM)' : null,
    ].filter(Boolean);
    process.stdout.write(
      `\nlablog: SKIPPED ${skipped} PostgreSQL/Chromium tests in ${files} files (${missing.join('; ')}): to run them, ${remedies.join(', and ')}\n`,
    );
  }
}
