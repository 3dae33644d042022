// Signals sent to the starling process reach the guest's first process, and a first process
// that ignores SIGTERM gets SIGKILL after the grace period, as a container's stop does.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cliArgs, native, scratchDir } from './helpers.js';

/**
 * Starts a guest shell script and sends sig to starling once the script prints "ready" (its traps
 * are set by then, however loaded the host is); resolves with its exit status and how long that took.
 */
function stopWith(script: string, sig: NodeJS.Signals, options: string[] = []): Promise<{ status: number | null; seconds: number }> {
  const child = spawn(process.execPath, [CLI, ...cliArgs(['run', ...options, '--', '/bin/sh', '-c', script])], { stdio: ['ignore', 'pipe', 'ignore'] });
  let sentAt = 0;
  child.stdout.on('data', (d: Buffer) => {
    if (sentAt || !d.toString().includes('ready')) return;
    sentAt = Date.now();
    child.kill(sig);
  });
  return new Promise((resolve) => child.on('exit', (code) => {
    resolve({ status: code, seconds: sentAt ? (Date.now() - sentAt) / 1000 : -1 });
  }));
}

t.test('SIGTERM ends a first process that keeps the default action', async (tt) => {
  const r = await stopWith('echo ready; sleep 100', 'SIGTERM');
  tt.equal(r.status, 128 + 15, 'status says SIGTERM');
  tt.ok(r.seconds >= 0 && r.seconds < 4, `ended promptly (${r.seconds} s)`);
});

t.test('SIGHUP reaches a handler, which decides the exit status', async (tt) => {
  const r = await stopWith('trap "exit 7" HUP; echo ready; while :; do sleep 0.1; done', 'SIGHUP');
  tt.equal(r.status, 7, 'the trap ran');
});

t.test('a first process that ignores SIGTERM gets SIGKILL after the grace period', async (tt) => {
  const r = await stopWith('trap "" TERM; echo ready; sleep 100', 'SIGTERM');
  tt.equal(r.status, 128 + 9, 'status says SIGKILL');
  tt.ok(r.seconds >= 4.5 && r.seconds < 15, `after the 5 s grace period (${r.seconds} s)`);
});

// The SIGKILL wakes the sleeping thread on CPU 1, and it dies as vCPU 0 lends it there: the
// machine must still notice that its first process ended (it slept on, for ever).
t.test('the same when the first process sleeps pinned to CPU 1', async (tt) => {
  const r = await stopWith('trap "" TERM; echo ready; exec taskset 2 sleep 100', 'SIGTERM', ['--cpus', '2']);
  tt.equal(r.status, 128 + 9, 'status says SIGKILL');
  tt.ok(r.seconds >= 4.5 && r.seconds < 15, `after the 5 s grace period (${r.seconds} s)`);
});

// Signals starling's own threads get that are not for the guest: V8's profiler sends SIGPROF
// to every thread about once a millisecond, and one that lands while a vCPU worker is inside
// KVM_RUN (or KVM_CREATE_VM) interrupts it. The guest must not notice.
t.test('a profiler\'s SIGPROF on every thread does not disturb the guest', (tt) => {
  const dir = scratchDir('sigprof');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'data'), Buffer.alloc(8 << 20, 'starling'));
  const expected = native('sha256sum', [join(dir, 'data')]).stdout.split(' ')[0];
  for (let run = 0; run < 3; run++) {
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'profiles')}`, CLI,
      ...cliArgs(['run', '--cpus', '2', '--bind', `${dir}:/t`, '--', 'sha256sum', '/t/data'])], { encoding: 'utf8', timeout: 120_000 });
    tt.equal(r.status, 0, `run ${run + 1} ends well ${r.stderr}`);
    tt.equal(r.stdout.split(' ')[0], expected, `run ${run + 1} gives the right digest`);
  }
  tt.end();
});
