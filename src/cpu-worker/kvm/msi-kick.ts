// Kicking a KVM vCPU that runs guest code, from any thread, when the VM has an in-kernel
// irqchip: KVM_SIGNAL_MSI sends the preemption vector to the vCPU's local APIC (its id is the
// vCPU number), and the shim turns the interrupt into an exit (kvm/shim.S). No host signal is
// involved. Measured on PVM: 44.6 us median from the ioctl to the exit (../shared/KVM.md).
import { Ioctl, IoctlBuffer, KVM_MSI_BYTES, ioctlOrThrow } from './kvm-abi.js';
import { PREEMPT_VECTOR } from '../../shared-mem/kvm-area.js';

/** MSI address of a local APIC in physical destination mode: 0xfee00000 | id << 12 (ids below 256). */
const MSI_ADDRESS_BASE = 0xfee00000;

/** One struct kvm_msi per thread (each worker and the main thread import their own copy). */
let msi: IoctlBuffer | null = null;

/** Sends the preemption interrupt to vCPU cpu of the VM (a failure is a broken /dev/kvm: it throws). */
export function kickByMsi(vmFd: number, cpu: number): void {
  msi ??= new IoctlBuffer(KVM_MSI_BYTES);
  const v = msi.view;
  v.setUint32(0, (MSI_ADDRESS_BASE | cpu << 12) >>> 0, true);
  v.setUint32(4, 0, true);
  v.setUint32(8, PREEMPT_VECTOR, true); // fixed delivery, edge-triggered
  ioctlOrThrow('SIGNAL_MSI', vmFd, Ioctl.SIGNAL_MSI, msi.address);
}
