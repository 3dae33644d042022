// The placement rule's arithmetic (kernel/sched/trap-mix.ts): which traps make a thread worth
// lending to an idle vCPU on KVM with the syscall mailbox, and which bring it back to vCPU 0.
import t from 'tap';
import { TrapKind, TrapMix } from '../src/kernel/sched/trap-mix.js';

const after = (kinds: number[]) => {
  const mix = new TrapMix();
  for (const k of kinds) mix.note(k as (typeof TrapKind)[keyof typeof TrapKind]);
  return mix;
};
const times = (n: number, k: number) => Array<number>(n).fill(k);

t.test('no history: vCPU 0', (tt) => {
  const mix = after(times(3, TrapKind.MAILBOX));
  tt.ok(mix.favoursKernelCpu, 'three calls are not enough to go by');
  tt.notOk(mix.favoursMailbox);
  tt.end();
});

t.test('mailbox calls after an exec\'s page faults', (tt) => {
  const start = times(40, TrapKind.OTHER);
  tt.ok(after(start).favoursKernelCpu, 'page faults: vCPU 0');
  tt.notOk(after([...start, ...times(10, TrapKind.MAILBOX)]).favoursMailbox, '10 calls do not outweigh them yet');
  const calls = after([...start, ...times(40, TrapKind.MAILBOX)]);
  tt.ok(calls.favoursMailbox, 'after 40 calls: lend');
  tt.notOk(calls.favoursKernelCpu);
  tt.end();
});

t.test('between the thresholds a thread stays where it is', (tt) => {
  // Saving per trap: 3 mailbox calls (27 us each) and one other trap (-45 us) average 9 us.
  const mix = after(Array.from({ length: 64 }, (_, i) => (i % 4 === 3 ? TrapKind.OTHER : TrapKind.MAILBOX)));
  tt.notOk(mix.favoursMailbox, 'not worth moving out');
  tt.notOk(mix.favoursKernelCpu, 'nor back');
  tt.end();
});

t.test('calls that wait weigh more than other traps', (tt) => {
  const pattern = (every: number, k: number) => Array.from({ length: 64 }, (_, i) => (i % every === every - 1 ? k : TrapKind.MAILBOX));
  tt.ok(after(pattern(6, TrapKind.OTHER)).favoursMailbox, 'one page fault in 6 traps: lend');
  tt.notOk(after(pattern(6, TrapKind.WAIT)).favoursMailbox, 'one wait in 6 traps: do not');
  tt.notOk(after(pattern(4, TrapKind.OTHER)).favoursKernelCpu, 'one page fault in 4 traps: a lent thread stays lent');
  tt.ok(after(pattern(4, TrapKind.WAIT)).favoursKernelCpu, 'one wait in 4 traps: it comes back');
  tt.end();
});

t.test('syscall results', (tt) => {
  const mix = new TrapMix();
  for (let i = 0; i < 20; i++) mix.noteCall(true, 0);
  tt.ok(mix.favoursMailbox, 'servable calls that returned count as mailbox calls');
  for (let i = 0; i < 20; i++) mix.noteCall(true, { kind: 'leave', why: 'exit' });
  tt.ok(mix.favoursKernelCpu, 'calls that left the engine do not');
  tt.end();
});
