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
  /** The syscall entry page: the PVM stub (Stub below), ending with the syscall exit. */
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
  /** Every exit is `out %al, $EXIT_PORT` (2 bytes). */
  EXIT_PORT: 0xe0,
  BYTES: 0x2000,
} as const;

/** Linux's selectors (PVM runs guests on the host's GDT layout): kernel 0x10/0x18, user 0x2b/0x33, TSS k at 0x40 + 16k. */
export const Selector = { KERNEL_CS: 0x10, KERNEL_DS: 0x18, USER32_CS: 0x23, USER_DS: 0x2b, USER_CS: 0x33, TSS: 0x40 } as const;

/** Mailbox of apply_pte_updates: a count, then (PTE, value, user address) triples. */
export const MAILBOX_MAX_UPDATES = Math.floor((0x1000 - 8) / 24);

/**
 * The PVM syscall stub on the syscall entry page (shim.S), by shim offset. vCPU k's LSTAR is
 * its own entry, which knows k's slot; each label starts a phase of the stub, which the host
 * tells apart when an interrupt stops a thread inside it (kvm-backend.ts, resolveStub).
 */
export const Stub = {
  ENTRIES: 0x1000,
  ENTRY_STRIDE: 32,
  /** Within an entry: from here on RAX holds the slot's address, and the number only the slot. */
  ENTRY_RAX_REPLACED: 20,
  PUBLISH: 0x1800,
  /** From here on the slot holds the caller's RFLAGS. */
  RFLAGS_SAVED: 0x1808,
  /** From here on RCX holds the slot's address, and the return address only the slot. */
  SLOT_IN_RCX: 0x180b,
  /** The request is published: until DECLINED the answer decides. */
  PUBLISHED: 0x182a,
  /** Declined or withdrawn: the call leaves as an ordinary syscall exit. */
  DECLINED: 0x1870,
  /** The syscall exit (`out`): LSTAR itself where `syscall` enters ring 0 (VMX/SVM). */
  SYSCALL_EXIT: 0x187c,
  /** Served, and the host wants the vCPU back: RAX, RCX and R11 hold the return state. */
  DONE_YIELD: 0x1880,
  YIELD_EXIT: 0x188c,
  /** Served: the stub returns to the caller, through the slot's stack after ON_SLOT_STACK. */
  DONE: 0x1890,
  ON_SLOT_STACK: 0x1894,
  END: 0x18b1,
} as const;

/**
 * The syscall mailbox of an address space (PVM only): SLOT_BYTES per vCPU at MAILBOX_VA +
 * cpu * SLOT_BYTES, on MAILBOX_PAGES user-writable pages of the kernel area's pool that only
 * this address space's page tables map (PML4 slot 510, just below the kernel half), so that
 * no process can touch another's calls. Offsets within a slot (shim.S has the same):
 *   STATE (u32): the MailboxState; the stub publishes REQUEST (xchg) and withdraws it
 *     (lock cmpxchg REQUEST -> IDLE); vCPU 0's worker takes it (REQUEST -> TAKEN) and answers
 *     (DONE, DONE_YIELD, DECLINED); the worker running the thread withdraws it when an
 *     interrupt stops the stub. Every change is an atomic operation.
 *   POLLING (u32): whether vCPU 0's worker polls this slot; written only by it (Atomics).
 *   NR, ARGS (6 u64), RIP (the return address), RFLAGS: written by the stub before it publishes.
 *   RESULT: written by vCPU 0's worker before it answers. USER_RSP and the slot's stack (its
 *   last bytes, for popfq): the stub's, after the answer.
 *   GIVE_UPS (u32): how many times the stub stopped waiting for a poller that did not come
 *   (vCPU 0's worker off its host CPU); written by the stub, read by vCPU 0's worker.
 */
export const MAILBOX_VA = 0xffffff7fffffe000n;
export const MAILBOX_PAGES = 2;
export const SyscallSlot = { BYTES: 128, STATE: 0, POLLING: 4, NR: 8, ARGS: 16, RIP: 64, RFLAGS: 72, RESULT: 80, USER_RSP: 88, GIVE_UPS: 96 } as const;
export const MailboxState = { IDLE: 0, REQUEST: 1, TAKEN: 2, DONE: 3, DONE_YIELD: 4, DECLINED: 5 } as const;
