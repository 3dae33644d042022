// Placement by the traps a thread makes (kernel/sched/trap-mix.ts): with --cpus 2 and nothing
// else to run, a thread whose traps the KVM syscall mailbox serves moves to the idle vCPU 1
// (KVM on PVM only), and a thread whose traps it does not serve runs on vCPU 0, where they
// cost least. Not differential: which CPU runs a thread is Starling's policy, not Linux's.
import t from 'tap';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ACCEL, native, ROOT, scratchDir, starling } from './helpers.js';

const dir = scratchDir('placement');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exe = join(dir, 'trap_placement');
const built = native('gcc', ['-O1', '-Wall', '-o', exe, join(ROOT, 'test', 'guest-extra', 'trap_placement.c')]);
const mailbox = ACCEL === 'kvm' && existsSync('/sys/module/kvm_pvm');

function run(mode: string, extra: string[] = []): { cpu: string; stderr: string } {
  const r = starling(['run', '--cpus', '2', ...extra, '--bind', `${dir}:/t`, '--', '/t/trap_placement', mode]);
  return { cpu: r.status === 0 ? r.stdout.trim() : `exit ${r.status}: ${r.stderr.trim()}`, stderr: r.stderr };
}

t.test('the program builds', (tt) => {
  tt.equal(built.status, 0, built.stderr);
  tt.end();
});

// With the mailbox, the thread moves once vCPU 0 has seen enough of its calls. What it then
// gets there depends on the host: on a busy one (the suite runs two files at once) vCPU 0's
// worker is not there to poll, the calls give up waiting and cross as exits, and the thread
// comes back. So the move itself is what is checked: syscalls made on vCPU 1, where nothing
// else of this one-thread program would ever run, in at least one of three runs.
t.test('a thread making mailbox calls', (tt) => {
  if (mailbox) {
    let onCpu1 = 0;
    for (let i = 1; i <= 3 && onCpu1 === 0; i++) {
      const r = run('calls', ['--exit-stats']);
      tt.match(r.cpu, /^[01]$/, `run ${i}: ends on a vCPU of the machine`);
      const exits = /^1\s+syscall\s+(\d+)\s/m.exec(r.stderr);
      const served = /^1\s+syscalls served in place, without an exit \(the mailbox\): (\d+)$/m.exec(r.stderr);
      onCpu1 = Number(exits?.[1] ?? 0) + Number(served?.[1] ?? 0);
    }
    tt.ok(onCpu1 > 0, `moved to vCPU 1 and made ${onCpu1} of its calls there`);
  } else {
    for (let i = 1; i <= 3; i++) tt.equal(run('calls').cpu, '0', `run ${i}: stays on vCPU 0, which serves its calls cheapest without a mailbox`);
  }
  tt.end();
});

t.test('a forked child that maps memory while its parent waits', (tt) => {
  for (let i = 1; i <= 3; i++) tt.equal(run('child').cpu, '0', `run ${i}: runs on vCPU 0, not across from vCPU 1`);
  tt.end();
});
