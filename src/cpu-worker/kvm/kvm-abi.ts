// The parts of <linux/kvm.h> (x86-64) that the KVM backend uses: ioctl numbers, exit reasons,
// and the byte offsets of the structures it reads and writes (checked against the header with
// offsetof). ioctls go through libc's syscall(2) with pointers into SharedArrayBuffers.
import { hostSyscall, addressOf } from '../../kernel/host/libc.js';
import { E } from '../../kernel/errno.js';

export const KVM_API_VERSION = 12;

export const Ioctl = {
  GET_API_VERSION: 0xae00, CREATE_VM: 0xae01, GET_VCPU_MMAP_SIZE: 0xae04, CHECK_EXTENSION: 0xae03,
  CREATE_VCPU: 0xae41, SET_USER_MEMORY_REGION: 0x4020ae46, RUN: 0xae80,
  GET_SREGS: 0x8138ae83, SET_SREGS: 0x4138ae84, SET_REGS: 0x4090ae82,
  GET_SUPPORTED_CPUID: 0xc008ae05, SET_CPUID2: 0x4008ae90, SET_MSRS: 0x4008ae89,
  GET_XSAVE: 0x9000aea4, SET_XSAVE: 0x5000aea5, SET_XCRS: 0x4188aea7,
  INTERRUPT: 0x4004ae86,
  CREATE_IRQCHIP: 0xae60, SET_MP_STATE: 0x4004ae99, SIGNAL_MSI: 0x4020aea5,
} as const;

export const Cap = { IRQCHIP: 0, SIGNAL_MSI: 77, SYNC_REGS: 0x4a } as const;
export const MP_STATE_RUNNABLE = 0;
/** struct kvm_msi: address_lo, address_hi, data, flags, devid, pad[12]. */
export const KVM_MSI_BYTES = 32;
export const SyncRegs = { REGS: 1, SREGS: 2 } as const;

export const Exit = { IO: 2, HLT: 5, MMIO: 6, SHUTDOWN: 8, FAIL_ENTRY: 9, INTR: 10, INTERNAL_ERROR: 17 } as const;

/** struct kvm_run */
export const Run = {
  IMMEDIATE_EXIT: 1, EXIT_REASON: 8,
  /** exit.io: direction (u8), size (u8), port (u16), count (u32), data_offset (u64) */
  IO_DIRECTION: 32, IO_PORT: 34,
  /** exit.fail_entry / internal: a u64 reason code first */
  EXIT_DETAIL: 32,
  VALID_REGS: 288, DIRTY_REGS: 296,
  /** s.regs: struct kvm_regs, then struct kvm_sregs */
  SYNC_REGS: 304, SYNC_SREGS: 304 + 144,
} as const;

/** struct kvm_regs, as u64 indexes. */
export const KvmReg = {
  RAX: 0, RBX: 1, RCX: 2, RDX: 3, RSI: 4, RDI: 5, RSP: 6, RBP: 7,
  R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15, RIP: 16, RFLAGS: 17,
} as const;
export const KVM_REGS_BYTES = 144;

/** struct kvm_sregs: segment offsets (24 bytes each), then the control registers. */
export const Sregs = {
  CS: 0, DS: 24, ES: 48, FS: 72, GS: 96, SS: 120, TR: 144, LDT: 168, GDT: 192, IDT: 208,
  CR0: 224, CR2: 232, CR3: 240, CR4: 248, CR8: 256, EFER: 264, APIC_BASE: 272, INTERRUPT_BITMAP: 280,
} as const;
export const KVM_SREGS_BYTES = 312;
/** struct kvm_segment fields. */
export const Seg = { BASE: 0, LIMIT: 8, SELECTOR: 12, TYPE: 14, PRESENT: 15, DPL: 16, DB: 17, S: 18, L: 19, G: 20, AVL: 21, UNUSABLE: 22 } as const;

export const KVM_XSAVE_BYTES = 4096;
export const KVM_CPUID_ENTRY_BYTES = 40;

export const Msr = {
  APIC_BASE: 0x1b,
  STAR: 0xc0000081, LSTAR: 0xc0000082, SFMASK: 0xc0000084,
  /** PVM's guest supervisor range: which upper-half PML4 slots a guest may use (arch/x86/kvm/pvm). */
  PVM_LINEAR_ADDRESS_RANGE: 0x4b564df0,
} as const;

/**
 * ioctl(fd, request, pointer or integer): the result, or -errno. Repeated when a host signal
 * interrupts it (a profiler's SIGPROF makes even KVM_CREATE_VM fail with EINTR on PVM): all are
 * safe to repeat. KVM_RUN is not issued here (KvmVcpu.enter): an EINTR there can be a kick.
 */
export function ioctl(fd: number, request: number, arg: number = 0): number {
  for (;;) {
    const r = hostSyscall(16, fd, request, arg);
    if (r !== -E.EINTR) return r;
  }
}

/** ioctl that must succeed: failures are bugs or a broken /dev/kvm, reported with the errno. */
export function ioctlOrThrow(what: string, fd: number, request: number, arg = 0): number {
  const r = ioctl(fd, request, arg);
  if (r < 0) throw new Error(`KVM ${what}: errno ${-r}`);
  return r;
}

/** A struct buffer with a stable host address, for ioctl arguments. */
export class IoctlBuffer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly address: number;

  constructor(size: number) {
    const sab = new SharedArrayBuffer(size);
    this.bytes = new Uint8Array(sab);
    this.view = new DataView(sab);
    this.address = addressOf(sab);
  }
}

/** Builds struct kvm_msrs with the given entries into buf; returns its address. */
export function msrList(buf: IoctlBuffer, entries: ReadonlyArray<[number, bigint]>): number {
  buf.bytes.fill(0, 0, 8 + 16 * entries.length);
  buf.view.setUint32(0, entries.length, true);
  entries.forEach(([index, value], i) => {
    buf.view.setUint32(8 + 16 * i, index, true);
    buf.view.setBigUint64(8 + 16 * i + 8, value, true);
  });
  return buf.address;
}
