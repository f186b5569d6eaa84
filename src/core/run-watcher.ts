// Run watcher: a tiny process that stops a run's process group when its supervisor dies (Linux has no portable parent-death signal for Node).

import { spawn, type ChildProcess } from 'node:child_process';

/** The watcher checks this often whether the group it guards is gone (then it exits). */
export const WATCHER_POLL_MS = 100;

/**
 * The watcher's program, run with `node -e` (no file to find, no loader): it holds the read end of a pipe
 * from the supervisor. `done` on the pipe: the run ended normally, exit. The pipe closing without it: the
 * supervisor died (SIGKILL, OOM), so SIGTERM the child's whole process group, SIGKILL it after the grace
 * period, exit. It also exits once the group is gone.
 */
const WATCHER_SOURCE = `
const pgid = Number(process.argv[1]);
const graceMs = Number(process.argv[2]);
let settled = false;
const alive = () => { try { process.kill(-pgid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const signal = (s) => { try { process.kill(-pgid, s); } catch {} };
function supervisorGone() {
  if (settled) return;
  settled = true;
  signal('SIGTERM');
  const until = Date.now() + graceMs;
  setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() >= until) { signal('SIGKILL'); process.exit(0); }
  }, ${WATCHER_POLL_MS});
}
process.stdin.on('data', (d) => { if (String(d).includes('done')) { settled = true; process.exit(0); } });
process.stdin.on('end', supervisorGone);
process.stdin.on('error', supervisorGone);
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(s, () => {});
setInterval(() => { if (!settled && !alive()) process.exit(0); }, ${WATCHER_POLL_MS * 10});
`;

/** A started watcher: `release()` when the run's group ended normally. */
export interface RunWatcher {
  release(): void;
}

/** Starts a watcher for the process group `pgid` (the child's pid: it leads its own group). */
export function watchProcessGroup(pgid: number, graceMs: number): RunWatcher {
  let watcher: ChildProcess | undefined;
  try {
    watcher = spawn(process.execPath, ['-e', WATCHER_SOURCE, String(pgid), String(graceMs)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      // Its own group: a Ctrl-C at the terminal reaches the supervisor (which cancels), not the watcher.
      detached: true,
    });
    watcher.on('error', () => {});
    watcher.stdin?.on('error', () => {});
    watcher.unref();
    (watcher.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  } catch {
    watcher = undefined;
  }
  return {
    release() {
      if (watcher?.stdin && !watcher.stdin.destroyed) watcher.stdin.end('done\n');
    },
  };
}
