#!/usr/bin/env node
// The lablog executable: runs the command program on this process's arguments.

import { main } from './program.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
