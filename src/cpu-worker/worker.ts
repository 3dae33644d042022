// A vCPU worker's piscina task: one per vCPU, alive for the machine's lifetime. Each worker
// loads only what its vCPU runs: vCPU 0 the whole kernel (vcpu.ts), the others only the
// executor (executor.ts), about a tenth of the modules. Module loading is most of a worker's
// start-up, and the workers start together on the host's cores.
import type { MessagePort } from 'node:worker_threads';
import { engineFactory } from './engines.js';
import type { KvmTask } from './kvm/kvm-vcpu.js';
import type { BootSpec } from './boot.js';
import type { GuestConsole } from '../kernel/sys-file.js';

export interface VcpuTask {
  cpu: number;
  cpus: number;
  memory: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** The execution slots (shared-mem/exec-slot.ts) through which vCPU 0 lends threads to the others. */
  slots: SharedArrayBuffer;
  bootTimeMs: number;
  /** Present on the vCPU that starts the machine's first program. */
  boot: BootSpec | null;
  /** vCPU 0's end of the monitor's channel (cpu-worker/monitor-agent.ts). */
  monitor: MessagePort | null;
  /** The machine's KVM VM with --accel kvm; null for Unicorn. */
  kvm: KvmTask | null;
  /** With --console pty (on vCPU 0): the host pty slave that is the guest's console (main/console/). */
  console: GuestConsole | null;
  /** On vCPU 0: the memfd holding the [vvar] page that the main thread's GuestClock keeps (null: no vDSO). */
  guestClockFd: number | null;
}

/** What a vCPU task resolves to: the first program's wait status, or null for the others. */
export type VcpuResult = { status: number } | { error: string; exitCode: number } | null;

export default async function runVcpu(task: VcpuTask): Promise<VcpuResult> {
  const control = new Int32Array(task.control);
  const engines = await engineFactory(task.cpu, control, task.memory, task.kvm);
  if (task.boot) {
    const { runKernelCpu } = await import('./vcpu.js');
    return runKernelCpu(task, task.boot, engines);
  }
  const { Executor } = await import('./executor.js');
  new Executor(task.cpu, control, task.slots, engines).run();
  return null;
}
