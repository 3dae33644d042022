// Which CPU backend a vCPU worker's engines are: Unicorn (portable) or KVM (--accel kvm). The
// run loops (vcpu.ts, executor.ts) ask this factory for an engine per address space and
// otherwise speak only the CpuBackend interface.
import type { CpuBackend, SyscallSink } from './backend.js';
import type { KvmVcpu, KvmTask } from './kvm/kvm-vcpu.js';
import type { PageTablePool } from './kvm/page-tables.js';
import { Control } from '../shared-mem/layout.js';
import { KERNEL_CR3 } from '../shared-mem/kvm-area.js';
import { addressOf } from '../kernel/host/libc.js';

export interface EngineFactory {
  /** Whether LOCK-prefixed instructions are atomic across vCPUs: threads of one address space may then execute at once. */
  readonly atomic: boolean;
  /** Whether threads lent to other vCPUs can have their calls served without an exit (KVM on PVM: the syscall mailbox). */
  readonly syscallMailbox: boolean;
  /** owner: the engine of vCPU 0, which holds the address space and maps its memory. */
  create(sink: SyscallSink, owner: boolean): CpuBackend;
  /** The worker is about to sleep for longer than a tick: stop what would wake the host for nothing (KVM: the LAPIC timer). */
  idle(): void;
}

/**
 * The factory for this worker's backend. Only that backend's modules are loaded: libunicorn
 * and its bindings cost a KVM worker about 11 ms of its start-up (measured), and the KVM
 * modules are of no use to a Unicorn one.
 */
export async function engineFactory(cpu: number, control: Int32Array, memory: SharedArrayBuffer, kvm: KvmTask | null): Promise<EngineFactory> {
  if (!kvm) {
    const { UnicornBackend } = await import('./unicorn-backend.js');
    // The block hook's request word: this vCPU's PREEMPT_REQUEST (see native/preempt.c).
    const preemptRequest = addressOf(control.buffer as SharedArrayBuffer) + 4 * (Control.PREEMPT_REQUEST_BASE + cpu);
    return { atomic: false, syscallMailbox: false, create: (sink) => new UnicornBackend(sink, preemptRequest), idle: () => {} };
  }
  const [{ KvmBackend }, { KvmVcpu }, { PageTablePool }] = await Promise.all([
    import('./kvm/kvm-backend.js'), import('./kvm/kvm-vcpu.js'), import('./kvm/page-tables.js'),
  ]);
  let vcpu: KvmVcpu | null = null;
  let pool: PageTablePool | null = null;
  const poolAddress = addressOf(memory);
  return {
    atomic: true,
    syscallMailbox: kvm.pvm,
    create(sink, owner) {
      vcpu ??= new KvmVcpu(kvm, cpu, control);
      if (owner) pool ??= new PageTablePool(kvm.area, kvm.kernelBase, (updates) => vcpu!.applyPteUpdates(updates, KERNEL_CR3));
      return new KvmBackend(sink, vcpu, poolAddress, owner ? pool : null);
    },
    idle: () => vcpu?.stopTimer(),
  };
}
