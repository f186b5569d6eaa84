// The baseline of the hello-world row's peak RSS: a bare node process, read the same way at exit.
import { readFileSync } from 'node:fs';

process.on('exit', () => process.stdout.write(`${/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]}\n`));
