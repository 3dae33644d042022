// The KVM backend's kernel area: one SharedArrayBuffer registered as a second memory slot at
// guest-physical KERNEL_AREA_PHYS and mapped (supervisor) at the kernel virtual base that the
// host picks (cpu-worker/kvm/kvm-vm.ts) in every address space's page tables. Offsets below
// are from the area's start, in bytes.
//
// Written by the main thread before any vCPU starts (shim, IDT, GDT, TSSs, kernel page
// tables) and read-only afterwards, except:
//   page-table pool: guarded by single ownership: only vCPU 0, which owns every address
//     space, allocates and writes page tables (cpu-worker/kvm/page-tables.ts);
//   a vCPU's mailbox and kernel stack: written only by that vCPU's worker and its guest.

import { MAX_CPUS, MAX_POOL_BYTES } from './layout.js';

/** Guest-physical address of the area: above the largest frame pool (slot 0 at address 0). */
export const KERNEL_AREA_PHYS = MAX_POOL_BYTES;
export const KERNEL_AREA_BYTES = 64 * 1024 * 1024;

export const Area = {
  /** shim.bin: ring-0 code (page 0), then the user-accessible syscall entry page (page 1). */
  SHIM: 0x0000,
  SYSCALL_ENTRY: 0x1000,
  IDT: 0x2000,
  GDT: 0x3000,
  /** One TSS per vCPU, TSS_STRIDE apart. */
  TSS: 0x4000,
  /** One 4 KiB kernel stack per vCPU (RSP0 is the top of its page). */
  STACKS: 0x8000,
  /** One 4 KiB mailbox per vCPU: requests to its shim (page-table updates). */
  MAILBOXES: 0x8000 + MAX_CPUS * 0x1000,
  /** The kernel half's page-directory-pointer table, page directory, and page table of the first 2 MiB. */
  KERNEL_PDPT: 0x90000,
  KERNEL_PD: 0x91000,
  KERNEL_PT: 0x92000,
  /** A PML4 holding only the kernel half: a vCPU's CR3 before any address space, and the source of every PML4's kernel entry. */
  KERNEL_PML4: 0x93000,
  /** 4 KiB page tables of the address spaces, from here to the end. */
  PAGE_TABLES: 0x200000,
} as const;

export const TSS_STRIDE = 0x100;

/** CR3 of the kernel-only PML4. */
export const KERNEL_CR3 = BigInt(KERNEL_AREA_PHYS + Area.KERNEL_PML4);

/** The interrupt vector that preempts a thread: the LAPIC timer and MSI kicks (or, without an irqchip, KVM_INTERRUPT) use it. */
export const PREEMPT_VECTOR = 32;

/** Offsets inside shim.bin (see src/cpu-worker/kvm/shim.S). */
export const Shim = {
  /** Vector v's entry: v * VECTOR_STRIDE. */
  VECTOR_STRIDE: 16,
  VECTORS: 48,
  EXCEPTION_EXIT: 0x400,
  /** PREEMPT_VECTOR's IDT entry with an irqchip: acknowledges the LAPIC's interrupt, then as the vector's own entry. */
  LAPIC_INTERRUPT: 0x440,
  APPLY_PTE_UPDATES: 0x480,
  APPLY_PTE_UPDATES_EXIT: 0x4c0,
  PROGRAM_APIC_TIMER: 0x500,
  PROGRAM_APIC_TIMER_EXIT: 0x540,
  SYSCALL_ENTRY: 0x1000,
  /** Every exit is `out %al, $EXIT_PORT` (2 bytes). */
  EXIT_PORT: 0xe0,
  BYTES: 0x2000,
} as const;

/** Linux's selectors (PVM runs guests on the host's GDT layout): kernel 0x10/0x18, user 0x2b/0x33, TSS k at 0x40 + 16k. */
export const Selector = { KERNEL_CS: 0x10, KERNEL_DS: 0x18, USER32_CS: 0x23, USER_DS: 0x2b, USER_CS: 0x33, TSS: 0x40 } as const;

/** Mailbox of apply_pte_updates: a count, then (PTE, value, user address) triples. */
export const MAILBOX_MAX_UPDATES = Math.floor((0x1000 - 8) / 24);
