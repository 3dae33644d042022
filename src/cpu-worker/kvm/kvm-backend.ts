// The KVM CpuBackend: one per (worker, address space), all of a worker's sharing its KVM vCPU
// (kvm-vcpu.ts). A backend keeps its thread's registers in memory (general registers, FS/GS
// base, the XSAVE image) and loads them into the vCPU when it runs: the general registers
// through kvm_run's sync_regs on every entry, the segments and CR3 only when another backend
// ran in between or the vCPU is in ring 0, the FPU with KVM_SET_XSAVE only when the vCPU holds
// another backend's.
//
// vCPU 0's backend of an address space owns its page tables (page-tables.ts); the other
// vCPUs' backends only load its CR3 (sharedMappings): they neither map nor unmap, and their
// page faults go back to vCPU 0.
import { type CpuBackend, type RemoteSyscallSlot, type StopReason, type SyscallFrame, type SyscallSink, type ThreadContext, Reg, REG_COUNT } from '../backend.js';
import { KvmReg, KVM_XSAVE_BYTES, SyncRegs } from './kvm-abi.js';
import { PageTables, type PageTablePool, type PteUpdate } from './page-tables.js';
import type { KvmVcpu } from './kvm-vcpu.js';
import { PREEMPT_VECTOR, Stub } from '../../shared-mem/kvm-area.js';
import type { MailboxSlot } from './syscall-mailbox.js';
import { ExitCause } from '../../shared-mem/kvm-exits.js';
import { E } from '../../kernel/errno.js';

/** backend.Reg index -> struct kvm_regs index (FS/GS base are segment bases, kept apart). */
const KVM_REG_OF = [
  KvmReg.RAX, KvmReg.RBX, KvmReg.RCX, KvmReg.RDX, KvmReg.RSI, KvmReg.RDI, KvmReg.RBP, KvmReg.RSP,
  KvmReg.R8, KvmReg.R9, KvmReg.R10, KvmReg.R11, KvmReg.R12, KvmReg.R13, KvmReg.R14, KvmReg.R15,
  KvmReg.RIP, KvmReg.RFLAGS,
];
const GPRS = 18;

/** Exception frame on the shim's stack, in u64s from RSP at its exit: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
const Frame = { VECTOR: 0, ERROR: 1, RIP: 2, CS: 3, RFLAGS: 4, RSP: 5 } as const;
const Vector = { DE: 0, DB: 1, BP: 3, UD: 6, PF: 14 } as const;
const PF_PRESENT = 1, PF_WRITE = 2, PF_FETCH = 0x10;
/** Exceptions for which the CPU pushes an error code (as shim.S lists them). */
const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

/** Bytes of exported registers: the backend.Reg values, CR3, then the XSAVE image. */
const EXPORT_CR3 = REG_COUNT * 8;
const EXPORT_XSAVE = EXPORT_CR3 + 8;
export const KVM_CONTEXT_BYTES = EXPORT_XSAVE + KVM_XSAVE_BYTES;

class KvmContext implements ThreadContext {
  readonly regs = new BigInt64Array(REG_COUNT);
  readonly xsave = new Uint8Array(KVM_XSAVE_BYTES);
  free(): void {}
}

export class KvmBackend implements CpuBackend {
  readonly name = 'kvm';
  readonly sharedMappings = true;
  readonly mapsPages = true;
  /** The thread's registers, in backend.Reg order. */
  private readonly regs = new BigInt64Array(REG_COUNT);
  readonly xsave: Uint8Array;
  private cr3: bigint;
  /** Segments or CR3 changed since the vCPU last loaded them for this backend. */
  private sregsStale = true;
  private stopReason: StopReason | null = null;
  private readonly frame: SyscallFrame = { nr: 0, args: [0, 0, 0, 0, 0, 0], rip: 0 };
  private readonly pageTables: PageTables | null;
  /** vCPU 0's backend: the slots of its address space's syscall mailbox, by vCPU. */
  private readonly remoteSlots = new Map<number, MailboxSlot>();

  /** pool: given to the backend that owns the address space's page tables (vCPU 0's). */
  constructor(private readonly sink: SyscallSink, private readonly vcpu: KvmVcpu, private readonly poolAddress: number, pool: PageTablePool | null) {
    this.pageTables = pool ? new PageTables(pool) : null;
    this.cr3 = this.pageTables?.cr3 ?? 0n;
    this.xsave = vcpu.initialXsave.slice();
    this.regs[Reg.EFLAGS] = 0x202n;
  }

  // ---- Mappings (vCPU 0's backend only) ----

  map(vaddr: number, size: number, prot: number, hostAddress: number): void {
    this.apply(this.tables().map(vaddr, size, prot, hostAddress - this.poolAddress));
  }

  unmap(vaddr: number, size: number): void {
    this.apply(this.tables().restrict(vaddr, size, null));
  }

  protect(vaddr: number, size: number, prot: number): void {
    this.apply(this.tables().restrict(vaddr, size, prot));
  }

  /** The guest's stores and the host's writes are coherent with instruction fetch on x86. */
  flushCode(): void {}

  private tables(): PageTables {
    if (!this.pageTables) throw new Error('KVM: only vCPU 0 maps guest memory');
    return this.pageTables;
  }

  private apply(updates: PteUpdate[]): void {
    if (updates.length) this.vcpu.applyPteUpdates(updates, this.cr3);
  }

  // ---- Running ----

  run(): StopReason {
    const v = this.vcpu;
    this.stopReason = null;
    try {
      if (v.guestSpan(true)) return { kind: 'preempted' };
      return this.runToStop();
    } finally {
      v.guestSpan(false);
      v.noteHandled();
    }
  }

  /**
   * With an irqchip a kick or a tick arrives as the preemption vector (onException). Without
   * one a kick is a signal that makes KVM_RUN return EINTR, handled here.
   */
  private runToStop(): StopReason {
    const v = this.vcpu;
    let kicked = false;
    let reload = true;
    for (;;) {
      if (reload) {
        v.syncTimer();
        this.load();
      }
      reload = true;
      const rc = v.enter();
      if (rc === -E.EINTR) {
        reload = false;
        // A host signal that was no kick of ours (a profiler's SIGPROF, a signal for the process
        // that the host delivered to this thread): the thread goes on as if nothing happened.
        if (!v.kickedBySignal) continue;
        v.noteExit(ExitCause.PREEMPT);
        // Kicked before KVM even took our registers: nothing ran, nothing changed.
        if (v.takeUnappliedLoad()) return { kind: 'preempted' };
        // Kicked while running. The registers must not change before KVM_RUN ends at an exit
        // of ours (measured on PVM: changing RIP after a bare EINTR and running again faults
        // at the new RIP), so the thread runs on, unchanged, to the next exit: in user mode
        // the preemption interrupt makes that immediate; in the shim, its own exit comes first.
        if (!kicked && v.inUserMode) v.queuePreemptInterrupt();
        kicked = true;
        continue;
      }
      if (rc < 0) throw new Error(`KVM_RUN: errno ${-rc}`);
      const stop = this.onExit();
      if (stop) return stop;
      if (kicked || v.preemptRequested) return { kind: 'preempted' };
    }
  }

  /** Puts this backend's state on the vCPU for the next KVM_RUN. */
  private load(): void {
    const v = this.vcpu;
    if (v.fpuOwner !== this) {
      if (v.fpuOwner) v.saveFpu(v.fpuOwner.xsave);
      v.loadFpu(this.xsave);
      v.fpuOwner = this;
    }
    const k = v.regs;
    for (let i = 0; i < GPRS; i++) k[KVM_REG_OF[i]] = this.regs[i];
    let dirty = SyncRegs.REGS;
    if (v.userReady !== this || this.sregsStale) {
      v.loadUserSregs(this.cr3, this.regs[Reg.FS_BASE], this.regs[Reg.GS_BASE]);
      dirty |= SyncRegs.SREGS;
      this.sregsStale = false;
    }
    v.markDirty(dirty);
    v.userReady = null; // until an exit in ring 3 says otherwise
  }

  private captureGprs(): void {
    const k = this.vcpu.regs;
    for (let i = 0; i < GPRS; i++) this.regs[i] = k[KVM_REG_OF[i]];
  }

  /** Decodes an exit; returns a stop, or null to go on running. */
  private onExit(): StopReason | null {
    const v = this.vcpu;
    switch (v.shimExit()) {
      case 'syscall':
        v.noteExit(ExitCause.SYSCALL);
        return this.onSyscall();
      case 'yield': {
        // Served through the mailbox; the stub left the return state in RAX, RCX and R11.
        v.noteExit(ExitCause.SYSCALL);
        this.captureGprs();
        this.regs[Reg.RIP] = this.regs[Reg.RCX];
        this.regs[Reg.EFLAGS] = this.regs[Reg.R11];
        if (v.inUserMode) v.userReady = this;
        return { kind: 'preempted' };
      }
      case 'exception':
        return this.onException();
      case 'port': {
        v.noteExit(ExitCause.OTHER);
        // Guest code executed `out` to the exit port itself: a general-protection fault for it.
        this.captureGprs();
        return { kind: 'interrupt', vector: 13, rip: Number(this.regs[Reg.RIP]) };
      }
      default:
        throw new Error(`KVM: unexpected ${v.exitDetail()}`);
    }
  }

  private onSyscall(): StopReason | null {
    const v = this.vcpu;
    this.captureGprs();
    const r = this.regs;
    // `syscall` put the return address in RCX and the flags in R11.
    const at = r[Reg.RCX] - 2n;
    r[Reg.RIP] = at;
    r[Reg.EFLAGS] = r[Reg.R11];
    if (v.inUserMode) v.userReady = this; // PVM: `syscall` stayed in ring 3
    const f = this.frame;
    f.nr = Number(r[Reg.RAX]);
    f.args[0] = Number(r[Reg.RDI]);
    f.args[1] = Number(r[Reg.RSI]);
    f.args[2] = Number(r[Reg.RDX]);
    f.args[3] = Number(r[Reg.R10]);
    f.args[4] = Number(r[Reg.R8]);
    f.args[5] = Number(r[Reg.R9]);
    f.rip = Number(at);
    const result = this.sink.syscall(f);
    if (result === null) {
      // As Unicorn leaves it: past the syscall, unless the handler moved RIP (exec, sigreturn).
      if (r[Reg.RIP] === at) r[Reg.RIP] = at + 2n;
      return this.stopReason ?? { kind: 'trap' };
    }
    r[Reg.RIP] = at + 2n;
    this.completeSyscall(result);
    return this.stopReason;
  }

  private onException(): StopReason | null {
    const v = this.vcpu;
    this.captureGprs();
    const sp = BigInt.asUintN(64, v.regs[KvmReg.RSP]);
    const word = (i: number) => v.kernelU64(sp + BigInt(8 * i));
    let vector = Number(word(Frame.VECTOR));
    let error = Number(word(Frame.ERROR));
    const r = this.regs;
    r[Reg.RIP] = BigInt.asIntN(64, word(Frame.RIP));
    r[Reg.EFLAGS] = BigInt.asIntN(64, word(Frame.RFLAGS));
    r[Reg.RSP] = BigInt.asIntN(64, word(Frame.RSP));
    if ((word(Frame.CS) & 3n) === 0n) {
      // The preemption interrupt came while a shim entry was starting (KVM delivers a queued
      // interrupt right after an exception it injects): the thread's own event is the outer
      // one, whose frame the CPU put at the top of the stack when it left user mode.
      const outer = v.shimVector(word(Frame.RIP));
      if (outer === null) throw new Error(`KVM: nested event outside the shim's entries: ${v.exitDetail()}`);
      const top = (k: number) => v.kernelU64(v.stackTop - BigInt(8 * k));
      vector = outer;
      error = ERROR_CODE_VECTORS.has(outer) ? Number(top(6)) : 0;
      r[Reg.RIP] = BigInt.asIntN(64, top(5));
      r[Reg.EFLAGS] = BigInt.asIntN(64, top(3));
      r[Reg.RSP] = BigInt.asIntN(64, top(2));
    }
    if (vector >= PREEMPT_VECTOR) {
      const inStub = v.stubOffset(r[Reg.RIP]);
      if (inStub !== null) this.resolveStub(inStub);
    }
    const rip = Number(r[Reg.RIP]);
    v.noteExit(vector === Vector.PF ? ExitCause.PAGE_FAULT : vector === PREEMPT_VECTOR ? ExitCause.PREEMPT : ExitCause.OTHER);
    switch (vector) {
      case Vector.PF: {
        const addr = Number(v.cr2);
        const access = error & PF_FETCH ? 'exec' : error & PF_WRITE ? 'write' : 'read';
        const mapped = (error & PF_PRESENT) !== 0;
        if (!mapped && this.sink.regionFault(addr, access)) return null;
        return { kind: 'fault', addr, access, mapped };
      }
      case Vector.UD:
        return { kind: 'illegal', rip };
      case PREEMPT_VECTOR:
        // A tick while nothing waits for this vCPU, or a kick already served: the thread goes on.
        return v.sliceOver ? { kind: 'preempted' } : null;
      default:
        // Other vectors above the exceptions: only the LAPIC's spurious vector, to ignore.
        return vector > PREEMPT_VECTOR ? null : { kind: 'interrupt', vector, rip };
    }
  }

  /**
   * An interrupt stopped the thread inside the PVM syscall stub (shim.S): by the stub's phase,
   * its registers become those of a thread just back from its `syscall` (served) or about to
   * execute it again (nothing served, the request withdrawn). Either way the thread may then
   * leave the vCPU, and the slot is free for the next thread.
   */
  private resolveStub(off: number): void {
    const r = this.regs;
    const slot = this.vcpu.mailboxSlot(this.cr3);
    const served = off < Stub.PUBLISHED ? false : off < Stub.DECLINED ? slot.settle() : off >= Stub.DONE_YIELD;
    if (served) {
      const ret = slot.returnAddress, flags = slot.rflags;
      if (off >= Stub.ON_SLOT_STACK) r[Reg.RSP] = slot.userRsp;
      r[Reg.RAX] = slot.result;
      r[Reg.RCX] = r[Reg.RIP] = ret;
      r[Reg.R11] = r[Reg.EFLAGS] = flags;
      return;
    }
    const raxIsNumber = off < Stub.PUBLISH && (off - Stub.ENTRIES) % Stub.ENTRY_STRIDE < Stub.ENTRY_RAX_REPLACED;
    const ret = off < Stub.SLOT_IN_RCX ? r[Reg.RCX] : slot.returnAddress;
    const flags = off < Stub.RFLAGS_SAVED ? r[Reg.R11] : slot.rflags;
    r[Reg.RAX] = raxIsNumber ? r[Reg.RAX] : slot.nr;
    r[Reg.RIP] = ret - 2n; // the `syscall` instruction
    r[Reg.RCX] = ret;
    r[Reg.R11] = r[Reg.EFLAGS] = flags;
  }

  remoteSyscallSlot(cpu: number): RemoteSyscallSlot | null {
    if (!this.pageTables || !this.vcpu.pvm) return null;
    let slot = this.remoteSlots.get(cpu);
    if (!slot) this.remoteSlots.set(cpu, (slot = this.vcpu.mailboxSlot(this.pageTables.cr3, cpu)));
    return slot;
  }

  stopFromHook(): void {
    this.stopReason = { kind: 'trap' };
  }

  // ---- Registers ----

  newContext(): ThreadContext {
    return new KvmContext();
  }

  private syncFpu(): void {
    if (this.vcpu.fpuOwner === this) this.vcpu.saveFpu(this.xsave);
  }

  private dropFpu(): void {
    if (this.vcpu.fpuOwner === this) this.vcpu.fpuOwner = null;
  }

  saveContext(ctx: ThreadContext, leaving = false): void {
    const c = ctx as KvmContext;
    c.regs.set(this.regs);
    if (leaving && this.vcpu.fpuOwner === this) {
      // The FPU state stays on the vCPU, as the context's: a thread that blocks and then runs
      // here again (the usual case) costs no KVM_GET_XSAVE or KVM_SET_XSAVE.
      this.vcpu.fpuOwner = c;
      return;
    }
    this.syncFpu();
    c.xsave.set(this.xsave);
  }

  restoreContext(ctx: ThreadContext): void {
    const c = ctx as KvmContext;
    // The segment registers are synced only if they change (the same thread coming back keeps
    // its FS and GS bases; another address space's run on the vCPU shows in userReady).
    if (c.regs[Reg.FS_BASE] !== this.regs[Reg.FS_BASE] || c.regs[Reg.GS_BASE] !== this.regs[Reg.GS_BASE]) this.sregsStale = true;
    this.regs.set(c.regs);
    if (this.vcpu.fpuOwner === c) {
      this.vcpu.fpuOwner = this;
      return;
    }
    this.xsave.set(c.xsave);
    this.dropFpu();
  }

  exportRegisters(into: Uint8Array): void {
    this.syncFpu();
    const v = new DataView(into.buffer, into.byteOffset, KVM_CONTEXT_BYTES);
    for (let i = 0; i < REG_COUNT; i++) v.setBigInt64(8 * i, this.regs[i], true);
    v.setBigUint64(EXPORT_CR3, this.cr3, true);
    into.set(this.xsave, EXPORT_XSAVE);
  }

  /**
   * A thread coming back to this vCPU after a trap served elsewhere usually has the segment
   * bases, CR3 and FPU state it left with: then the vCPU keeps them (a sync of the segments,
   * and KVM_SET_XSAVE, cost an exit's worth of microseconds on PVM).
   */
  importRegisters(from: Uint8Array): void {
    const v = new DataView(from.buffer, from.byteOffset, KVM_CONTEXT_BYTES);
    const fs = this.regs[Reg.FS_BASE], gs = this.regs[Reg.GS_BASE], cr3 = this.cr3;
    for (let i = 0; i < REG_COUNT; i++) this.regs[i] = v.getBigInt64(8 * i, true);
    this.cr3 = v.getBigUint64(EXPORT_CR3, true);
    if (this.cr3 !== cr3 || this.regs[Reg.FS_BASE] !== fs || this.regs[Reg.GS_BASE] !== gs) this.sregsStale = true;
    const xsave = from.subarray(EXPORT_XSAVE, EXPORT_XSAVE + KVM_XSAVE_BYTES);
    if (Buffer.compare(xsave, this.xsave) !== 0) {
      this.xsave.set(xsave);
      this.dropFpu();
    }
  }

  getRegs(out: BigInt64Array): void {
    out.set(this.regs);
  }

  setRegs(values: BigInt64Array): void {
    this.regs.set(values.subarray(0, REG_COUNT));
    this.sregsStale = true;
  }

  getReg(reg: number): number {
    return Number(this.regs[reg]);
  }

  setReg(reg: number, value: number | bigint): void {
    this.regs[reg] = BigInt.asIntN(64, BigInt(value));
    if (reg === Reg.FS_BASE || reg === Reg.GS_BASE) this.sregsStale = true;
  }

  completeSyscall(result: number): void {
    const r = this.regs;
    r[Reg.RAX] = BigInt(result);
    r[Reg.RCX] = r[Reg.RIP];
    r[Reg.R11] = r[Reg.EFLAGS];
  }

  dispose(): void {
    this.dropFpu();
    if (this.vcpu.userReady === this) this.vcpu.userReady = null;
    this.pageTables?.destroy();
  }
}
