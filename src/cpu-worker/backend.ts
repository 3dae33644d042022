// The interface between the kernel and a CPU engine. The kernel never names Unicorn: a second
// backend (KVM) implements the same interface.

/** Memory protections, as PROT_READ/WRITE/EXEC bits (the same values as Linux's). */
export const Prot = { NONE: 0, READ: 1, WRITE: 2, EXEC: 4 } as const;

/** General registers in the order of Linux's user_regs_struct subset we keep. */
export const Reg = {
  RAX: 0, RBX: 1, RCX: 2, RDX: 3, RSI: 4, RDI: 5, RBP: 6, RSP: 7,
  R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15,
  RIP: 16, EFLAGS: 17, FS_BASE: 18, GS_BASE: 19,
} as const;
export const REG_COUNT = 20;
export type RegName = keyof typeof Reg;

/** Why run() returned. */
export type StopReason =
  | { kind: 'trap' }                          // the syscall hook asked to leave the engine
  | { kind: 'preempted' }                     // the vCPU's preemption request word was set
  | { kind: 'fault'; addr: number; access: 'read' | 'write' | 'exec'; mapped: boolean }
  | { kind: 'illegal'; rip: number }
  | { kind: 'interrupt'; vector: number; rip: number };

/** The syscall a thread made: number and six arguments, as the kernel sees them. */
export interface SyscallFrame {
  nr: number;
  args: number[];
  /** Address of the syscall instruction. */
  rip: number;
}

export interface SyscallSink {
  /** Handles a syscall in the engine's hook. Returns the value for RAX, or null to leave the engine. */
  syscall(frame: SyscallFrame): number | null;
  /** An access to an address the engine has no region for: return true once it is mapped. */
  regionFault(addr: number, access: 'read' | 'write' | 'exec'): boolean;
}

/**
 * A syscall that a thread executing on another vCPU publishes in shared memory and waits for
 * in place, for vCPU 0 to serve without the thread leaving its vCPU (KVM on PVM, where each
 * exit costs about 30 us: cpu-worker/kvm/syscall-mailbox.ts).
 */
export interface RemoteSyscallSlot {
  /** Whether vCPU 0 polls the slot: while it does not, the thread's calls leave through an exit. */
  setPolling(on: boolean): void;
  /** Takes a published call into frame; false when there is none. It must then be answered or declined. */
  take(frame: SyscallFrame): boolean;
  /** Completes the call; yieldAfter: the thread then leaves its vCPU (stop kind 'preempted'). */
  answer(result: number, yieldAfter: boolean): void;
  /** The thread makes the call again through an exit (a call that must wait, or one not served this way). */
  decline(): void;
  /** How many times the thread stopped waiting for a poller that did not come, and made its call through an exit instead. */
  readonly giveUps: number;
}

/** A saved register state (all registers, x87 and SSE included), owned by one guest thread. */
export interface ThreadContext {
  free(): void;
}

export interface CpuBackend {
  readonly name: string;
  /**
   * Whether the engines of one address space share its mappings (KVM: page tables in guest
   * memory). Then only vCPU 0's engine maps and unmaps; the others never do, and give their
   * page faults back to vCPU 0.
   */
  readonly sharedMappings: boolean;
  /**
   * Whether the engine maps page by page (KVM: page tables): part of a mapped range can be
   * unmapped or re-protected in place, and the number of ranges mapped costs nothing. Unicorn
   * maps whole regions, at a cost that grows with their number (engine-mappings.ts).
   */
  readonly mapsPages: boolean;
  newContext(): ThreadContext;
  /**
   * Saves the registers into ctx. leaving: the thread leaves the engine (it blocks or is
   * switched out), so state only this vCPU's worker can read may stay on the CPU until another
   * thread needs it (KVM: the FPU state, whose KVM_GET_XSAVE and KVM_SET_XSAVE cost as much as
   * an exit); restoreContext of the same ctx then finds it there.
   */
  saveContext(ctx: ThreadContext, leaving?: boolean): void;
  restoreContext(ctx: ThreadContext): void;
  /**
   * The engine's registers as bytes that another engine of the same backend, on another vCPU,
   * can load: how a thread moves between vCPUs. At most MAX_CONTEXT_BYTES (shared-mem/exec-slot.ts).
   */
  exportRegisters(into: Uint8Array): void;
  importRegisters(from: Uint8Array): void;
  /** Maps [vaddr, vaddr+size) onto pool bytes at hostAddress. */
  map(vaddr: number, size: number, prot: number, hostAddress: number): void;
  unmap(vaddr: number, size: number): void;
  protect(vaddr: number, size: number, prot: number): void;
  /** Drops translated code for a range whose bytes changed behind the engine's back. */
  flushCode(vaddr: number, size: number): void;
  /** Runs guest code from the current registers until a trap, a fault or a preemption request. */
  run(): StopReason;
  /** Asks the engine to stop from inside a hook. */
  stopFromHook(): void;
  getRegs(out: BigInt64Array): void;
  setRegs(values: BigInt64Array): void;
  getReg(reg: number): number;
  setReg(reg: number, value: number | bigint): void;
  /** Sets the value a pending syscall returns: RAX, and RCX/R11 as the syscall instruction does. */
  completeSyscall(result: number): void;
  /** vCPU 0's engine of an address space: where a thread of it executing on vCPU cpu publishes its syscalls, if the backend has such a place. */
  remoteSyscallSlot?(cpu: number): RemoteSyscallSlot | null;
  dispose(): void;
}
