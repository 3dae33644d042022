// Signals sent to the starling process reach the guest's first process, and a first process
// that ignores SIGTERM gets SIGKILL after the grace period, as a container's stop does.
import t from 'tap';
import { spawn } from 'node:child_process';
import { CLI, cliArgs } from './helpers.js';

/** Starts a guest shell script, sends sig to starling after 1.5 s; resolves with its exit status and how long that took. */
function stopWith(script: string, sig: NodeJS.Signals): Promise<{ status: number | null; seconds: number }> {
  const child = spawn(process.execPath, [CLI, ...cliArgs(['run', '--', '/bin/sh', '-c', script])], { stdio: 'ignore' });
  let sentAt = 0;
  const timer = setTimeout(() => {
    sentAt = Date.now();
    child.kill(sig);
  }, 1500);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ status: code, seconds: sentAt ? (Date.now() - sentAt) / 1000 : -1 });
  }));
}

t.test('SIGTERM ends a first process that keeps the default action', async (tt) => {
  const r = await stopWith('sleep 100', 'SIGTERM');
  tt.equal(r.status, 128 + 15, 'status says SIGTERM');
  tt.ok(r.seconds >= 0 && r.seconds < 4, `ended promptly (${r.seconds} s)`);
});

t.test('SIGHUP reaches a handler, which decides the exit status', async (tt) => {
  const r = await stopWith('trap "exit 7" HUP; while :; do sleep 0.1; done', 'SIGHUP');
  tt.equal(r.status, 7, 'the trap ran');
});

t.test('a first process that ignores SIGTERM gets SIGKILL after the grace period', async (tt) => {
  const r = await stopWith('trap "" TERM; sleep 100', 'SIGTERM');
  tt.equal(r.status, 128 + 9, 'status says SIGKILL');
  tt.ok(r.seconds >= 4.5 && r.seconds < 15, `after the 5 s grace period (${r.seconds} s)`);
});
