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

function cpuOf(mode: string): string {
  const r = starling(['run', '--cpus', '2', '--bind', `${dir}:/t`, '--', '/t/trap_placement', mode]);
  return r.status === 0 ? r.stdout.trim() : `exit ${r.status}: ${r.stderr.trim()}`;
}

t.test('the program builds', (tt) => {
  tt.equal(built.status, 0, built.stderr);
  tt.end();
});

t.test('a thread making mailbox calls', (tt) => {
  const want = mailbox ? '1' : '0';
  for (let run = 1; run <= 3; run++) tt.equal(cpuOf('calls'), want, `run ${run}: ends on vCPU ${want} (${mailbox ? 'served in place there' : 'no mailbox: vCPU 0 serves its calls cheapest'})`);
  tt.end();
});

t.test('a forked child that maps memory while its parent waits', (tt) => {
  for (let run = 1; run <= 3; run++) tt.equal(cpuOf('child'), '0', `run ${run}: runs on vCPU 0, not across from vCPU 1`);
  tt.end();
});
