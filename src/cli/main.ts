#!/usr/bin/env node
// The lablog executable: runs the command program on this process's arguments.

import { main } from './program.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // main() reports what it knows; anything else is a bug, shown whole.
    process.stderr.write(`lablog: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
