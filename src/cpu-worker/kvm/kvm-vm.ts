// The machine's KVM VM, made by the main thread before the vCPU workers start: detection for
// --accel, the VM with its two memory slots (the frame pool at guest-physical 0 and the
// kernel area), and the kernel area's contents. Workers get the fds (one process, so they
// are valid on every thread) and create their own vCPUs (kvm-vcpu.ts).
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addressOf } from '../../kernel/host/libc.js';
import { KERNEL_AREA_BYTES, KERNEL_AREA_PHYS } from '../../shared-mem/kvm-area.js';
import { KVM_EXITS_BYTES } from '../../shared-mem/kvm-exits.js';
import { Cap, Ioctl, IoctlBuffer, KVM_API_VERSION, SyncRegs, ioctl } from './kvm-abi.js';
import { buildKernelArea } from './kernel-area.js';
import type { KvmTask } from './kvm-vcpu.js';

const SHIM_BINARY = fileURLToPath(new URL('../../../native/kvm-shim.bin', import.meta.url));
/**
 * Where the kernel area is mapped: PML4 slot 511, as Linux's kernel text. PVM hosts the guest's
 * supervisor half on the host's page tables; the kvm_pvm of these machines accepts this slot
 * (measured), though PVM's specification lets a host confine it (MSR_PVM_LINEAR_ADDRESS_RANGE).
 */
const KERNEL_BASE = 0xffffff8000000000n;

export type KvmProbe = { ok: true; pvm: boolean; kernelBase: bigint } | { ok: false; reason: string };

/** Whether /dev/kvm opens and can run this backend: VM and vCPU creation, sync_regs; PVM is recognised by its module. */
export function probeKvm(): KvmProbe {
  let kvmFd = -1, vmFd = -1, vcpuFd = -1;
  try {
    try {
      kvmFd = openSync('/dev/kvm', 'r+');
    } catch (e) {
      return { ok: false, reason: `/dev/kvm: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
    }
    const version = ioctl(kvmFd, Ioctl.GET_API_VERSION);
    if (version !== KVM_API_VERSION) return { ok: false, reason: `/dev/kvm: API version ${version}, not ${KVM_API_VERSION}` };
    const sync = ioctl(kvmFd, Ioctl.CHECK_EXTENSION, Cap.SYNC_REGS);
    if ((sync & (SyncRegs.REGS | SyncRegs.SREGS)) !== (SyncRegs.REGS | SyncRegs.SREGS)) return { ok: false, reason: '/dev/kvm: no KVM_CAP_SYNC_REGS' };
    vmFd = ioctl(kvmFd, Ioctl.CREATE_VM, 0);
    if (vmFd < 0) return { ok: false, reason: `/dev/kvm: KVM_CREATE_VM failed (errno ${-vmFd})` };
    vcpuFd = ioctl(vmFd, Ioctl.CREATE_VCPU, 0);
    if (vcpuFd < 0) return { ok: false, reason: `/dev/kvm: KVM_CREATE_VCPU failed (errno ${-vcpuFd})` };
    return { ok: true, pvm: existsSync('/sys/module/kvm_pvm'), kernelBase: KERNEL_BASE };
  } finally {
    for (const fd of [vcpuFd, vmFd, kvmFd]) if (fd >= 0) closeSync(fd);
  }
}

/**
 * Creates the VM over guest memory and fills the kernel area. The in-kernel irqchip comes
 * first (KVM requires it before any vCPU): with it each vCPU's LAPIC timer gives the time
 * slices and kicks are MSIs; without it (irqchipMissing says why) kicks are host signals and
 * the main thread's ticker gives the slices.
 */
export function createKvmVm(memory: SharedArrayBuffer, probe: { pvm: boolean; kernelBase: bigint }): KvmTask {
  const kvmFd = openSync('/dev/kvm', 'r+');
  const vmFd = ioctl(kvmFd, Ioctl.CREATE_VM, 0);
  if (vmFd < 0) throw new Error(`KVM_CREATE_VM failed (errno ${-vmFd})`);
  const irqchipMissing = createIrqchip(kvmFd, vmFd);
  const area = new SharedArrayBuffer(KERNEL_AREA_BYTES, { maxByteLength: KERNEL_AREA_BYTES });
  buildKernelArea(area, new Uint8Array(readFileSync(SHIM_BINARY)), probe.kernelBase, irqchipMissing === null);
  const region = new IoctlBuffer(32);
  const slot = (n: number, guestPhys: number, size: number, host: number) => {
    region.view.setUint32(0, n, true);
    region.view.setUint32(4, 0, true);
    region.view.setBigUint64(8, BigInt(guestPhys), true);
    region.view.setBigUint64(16, BigInt(size), true);
    region.view.setBigUint64(24, BigInt(host), true);
    const r = ioctl(vmFd, Ioctl.SET_USER_MEMORY_REGION, region.address);
    if (r < 0) throw new Error(`KVM_SET_USER_MEMORY_REGION ${n} failed (errno ${-r})`);
  };
  slot(0, 0, memory.maxByteLength, addressOf(memory));
  slot(1, KERNEL_AREA_PHYS, KERNEL_AREA_BYTES, addressOf(area));
  return { kvmFd, vmFd, area, kernelBase: probe.kernelBase, pvm: probe.pvm, irqchip: irqchipMissing === null, irqchipMissing,
    exits: new SharedArrayBuffer(KVM_EXITS_BYTES) };
}

/** KVM_CREATE_IRQCHIP where MSIs can be signalled: null, or why not. */
function createIrqchip(kvmFd: number, vmFd: number): string | null {
  if (ioctl(kvmFd, Ioctl.CHECK_EXTENSION, Cap.IRQCHIP) <= 0) return 'no KVM_CAP_IRQCHIP';
  if (ioctl(kvmFd, Ioctl.CHECK_EXTENSION, Cap.SIGNAL_MSI) <= 0) return 'no KVM_CAP_SIGNAL_MSI';
  const r = ioctl(vmFd, Ioctl.CREATE_IRQCHIP);
  return r < 0 ? `KVM_CREATE_IRQCHIP failed (errno ${-r})` : null;
}
