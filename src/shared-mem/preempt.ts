import { Control } from './layout.js';
import { hostSyscall } from '../kernel/host/libc.js';
import { kickByMsi } from '../cpu-worker/kvm/msi-kick.js';

/** The signal that kicks a KVM vCPU thread out of KVM_RUN when the VM has no irqchip (cpu-worker/native/kvm-kick.c). */
export const KICK_SIGNAL = 40;
const TGKILL = 234;

/** A scheduler tick: the time slice of threads that share a vCPU (the ticker's period, or the LAPIC timer's on KVM). */
export const TICK_MS = 4;

/**
 * Asks vCPU cpu to leave guest code: raises its PREEMPT_REQUEST word (which Unicorn's block
 * hook polls) and, for a KVM vCPU, which polls nothing while in the guest, kicks it: with an
 * in-kernel irqchip by an MSI, sent only while its worker is inside KvmBackend.run (the
 * worker raises KVM_IN_GUEST before it reads PREEMPT_REQUEST, so one of the two sides always
 * sees the other); without one by a signal to its thread.
 */
export function requestPreempt(control: Int32Array, cpu: number): void {
  Atomics.store(control, Control.PREEMPT_REQUEST_BASE + cpu, 1);
  const vmFd = Atomics.load(control, Control.KVM_MSI_VM_FD);
  if (vmFd) {
    if (Atomics.load(control, Control.KVM_IN_GUEST_BASE + cpu)) kickByMsi(vmFd, cpu);
    return;
  }
  const tid = Atomics.load(control, Control.KICK_TID_BASE + cpu);
  if (tid) hostSyscall(TGKILL, process.pid, tid, KICK_SIGNAL);
}

/**
 * TICK_WANTED of vCPU cpu has just been raised (by vCPU 0, for another vCPU). The ticker
 * (Unicorn, KVM without an irqchip) reads the word by itself; a KVM vCPU running guest code
 * with its LAPIC timer stopped gets an interrupt, on which it starts the timer and goes on:
 * the thread's slice ends at the next tick, not now.
 */
export function requestTick(control: Int32Array, cpu: number): void {
  const vmFd = Atomics.load(control, Control.KVM_MSI_VM_FD);
  if (vmFd && Atomics.load(control, Control.KVM_IN_GUEST_BASE + cpu) && !Atomics.load(control, Control.KVM_TIMER_ON_BASE + cpu)) kickByMsi(vmFd, cpu);
}
