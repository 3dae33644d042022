import { Control } from './layout.js';
import { hostSyscall } from '../kernel/host/libc.js';

/** The signal that kicks a KVM vCPU thread out of KVM_RUN (cpu-worker/native/kvm-kick.c). */
export const KICK_SIGNAL = 40;
const TGKILL = 234;

/**
 * Asks vCPU cpu to leave guest code: raises its PREEMPT_REQUEST word (which Unicorn's block
 * hook polls) and, for a KVM vCPU, which polls nothing while in the guest, signals its thread.
 */
export function requestPreempt(control: Int32Array, cpu: number): void {
  Atomics.store(control, Control.PREEMPT_REQUEST_BASE + cpu, 1);
  const tid = Atomics.load(control, Control.KICK_TID_BASE + cpu);
  if (tid) hostSyscall(TGKILL, process.pid, tid, KICK_SIGNAL);
}
