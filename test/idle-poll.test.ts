// The idle-polling window of the vCPUs other than vCPU 0 (cpu-worker/idle-poll.ts): how it
// grows with wakes that come soon after it and shrinks with long waits, as KVM's halt polling.
import t from 'tap';
import { IDLE_POLL_MAX_MS, IdlePoll } from '../src/cpu-worker/idle-poll.js';
import { ExecSlot, HAND_OVER_SPIN_MS, SLOT_BYTES } from '../src/shared-mem/exec-slot.js';

t.test('wakes soon after the window grow it, up to the maximum', (tt) => {
  const poll = new IdlePoll();
  tt.equal(poll.windowMs, HAND_OVER_SPIN_MS, 'a new vCPU polls only for the hand-over');
  poll.note(0.4, false);
  tt.equal(poll.windowMs, 2 * HAND_OVER_SPIN_MS, 'a wake 0.4 ms in doubles it');
  for (let i = 0; i < 20; i++) poll.note(0.4, false);
  tt.equal(poll.windowMs, IDLE_POLL_MAX_MS, 'never past the maximum');
  poll.note(0.4, true);
  tt.equal(poll.windowMs, IDLE_POLL_MAX_MS, 'a wake caught while polling leaves it');
  tt.end();
});

t.test('waits longer than the maximum shrink it, down to the hand-over spin', (tt) => {
  const poll = new IdlePoll();
  for (let i = 0; i < 20; i++) poll.note(0.4, false);
  poll.note(50, false);
  tt.equal(poll.windowMs, IDLE_POLL_MAX_MS / 2, 'one long wait halves it');
  for (let i = 0; i < 20; i++) poll.note(50, false);
  tt.equal(poll.windowMs, HAND_OVER_SPIN_MS, 'long waits bring it back to the hand-over spin');
  tt.end();
});

t.test('vCPU 0 expects a wake through the slot only while it is free', (tt) => {
  const slots = new SharedArrayBuffer(2 * SLOT_BYTES);
  const kernelSide = new ExecSlot(slots, 1), vcpuSide = new ExecSlot(slots, 1);
  /** The assigned thread runs, traps, and vCPU 0 takes it back. */
  const trapAndRelease = () => {
    vcpuSide.markRunning();
    vcpuSide.giveBack({ kind: 'trap' });
    kernelSide.release();
  };
  kernelSide.assign(1, null, []);
  kernelSide.expectWake();
  tt.notOk(vcpuSide.wakeExpected, 'not while a thread is assigned');
  trapAndRelease();
  tt.notOk(vcpuSide.wakeExpected, 'not before the return is served');
  kernelSide.expectWake();
  tt.ok(vcpuSide.wakeExpected, 'once the thread waits for another');
  kernelSide.assign(1, null, []);
  tt.notOk(vcpuSide.wakeExpected, 'and no longer once a thread is assigned');
  trapAndRelease();
  tt.notOk(vcpuSide.wakeExpected, 'the next release clears it');
  tt.end();
});
