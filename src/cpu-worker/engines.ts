// Which CPU backend a vCPU worker's engines are: Unicorn (portable) or KVM (--accel kvm). The
// run loops (vcpu.ts, executor.ts) ask this factory for an engine per address space and
// otherwise speak only the CpuBackend interface.
import type { CpuBackend, SyscallSink } from './backend.js';
import { UnicornBackend } from './unicorn-backend.js';
import { KvmBackend } from './kvm/kvm-backend.js';
import { KvmVcpu, type KvmTask } from './kvm/kvm-vcpu.js';
import { PageTablePool } from './kvm/page-tables.js';
import { Control } from '../shared-mem/layout.js';
import { addressOf } from '../kernel/host/libc.js';

export interface EngineFactory {
  /** Whether LOCK-prefixed instructions are atomic across vCPUs: threads of one address space may then execute at once. */
  readonly atomic: boolean;
  /** owner: the engine of vCPU 0, which holds the address space and maps its memory. */
  create(sink: SyscallSink, owner: boolean): CpuBackend;
  /** The worker is about to sleep for longer than a tick: stop what would wake the host for nothing (KVM: the LAPIC timer). */
  idle(): void;
}

export function engineFactory(cpu: number, control: Int32Array, memory: SharedArrayBuffer, kvm: KvmTask | null): EngineFactory {
  if (!kvm) {
    // The block hook's request word: this vCPU's PREEMPT_REQUEST (see native/preempt.c).
    const preemptRequest = addressOf(control.buffer as SharedArrayBuffer) + 4 * (Control.PREEMPT_REQUEST_BASE + cpu);
    return { atomic: false, create: (sink) => new UnicornBackend(sink, preemptRequest), idle: () => {} };
  }
  let vcpu: KvmVcpu | null = null;
  let pool: PageTablePool | null = null;
  const poolAddress = addressOf(memory);
  return {
    atomic: true,
    create(sink, owner) {
      vcpu ??= new KvmVcpu(kvm, cpu, control);
      if (owner) pool ??= new PageTablePool(kvm.area, kvm.kernelBase);
      return new KvmBackend(sink, vcpu, poolAddress, owner ? pool : null);
    },
    idle: () => vcpu?.stopTimer(),
  };
}
