// The KVM vCPU of one worker: created and run only from that worker's thread (KVM requires
// vCPU ioctls from the creating thread). Every address space's KvmBackend on this worker runs
// its threads on it. Registers travel through kvm_run's sync_regs (no GET/SET_REGS ioctls),
// mapped over a SharedArrayBuffer so JavaScript reads them in place.
import koffi from 'koffi';
import { fileURLToPath } from 'node:url';
import { hostSyscall, addressOf } from '../../kernel/host/libc.js';
import { E } from '../../kernel/errno.js';
import { Control } from '../../shared-mem/layout.js';
import { KICK_SIGNAL, TICK_MS } from '../../shared-mem/preempt.js';
import { Area, KERNEL_CR3, MAILBOX_MAX_UPDATES, PREEMPT_VECTOR, Selector, Shim, Stub } from '../../shared-mem/kvm-area.js';
import {
  Cap, Exit, Ioctl, IoctlBuffer, KvmReg, KVM_CPUID_ENTRY_BYTES, KVM_SREGS_BYTES, KVM_XSAVE_BYTES, MP_STATE_RUNNABLE, Msr, Run, Seg, Sregs, SyncRegs,
  ioctl, ioctlOrThrow, msrList,
} from './kvm-abi.js';
import { tssLimit } from './kernel-area.js';
import { mailboxSlotOffset, type PteUpdate } from './page-tables.js';
import { MailboxSlot } from './syscall-mailbox.js';
import { ExitCause, ExitField, exitCell } from '../../shared-mem/kvm-exits.js';

/** What a vCPU worker needs of the machine's KVM VM (created by the main thread, kvm-vm.ts). */
export interface KvmTask {
  kvmFd: number;
  vmFd: number;
  area: SharedArrayBuffer;
  kernelBase: bigint;
  /** PVM (kvm_pvm): `syscall` stays in ring 3 and lands on the entry page there. */
  pvm: boolean;
  /** The exit profile (shared-mem/kvm-exits.ts). */
  exits: SharedArrayBuffer;
  /** The VM has an in-kernel irqchip: x2APIC timers give the time slices, kicks are MSIs. */
  irqchip: boolean;
  /** Without one, why (told at start: kicks are then host signals). */
  irqchipMissing: string | null;
}


const CR0 = 0x80050033n; // PE MP ET NE WP AM PG, as Linux
const CR4 = 0x40620n; // PAE OSFXSR OSXMMEXCPT OSXSAVE
const EFER = 0xd01n; // SCE LME LMA NXE
const SFMASK = 0x47700n; // TF DF IF IOPL AC NT, as Linux
/** On PVM `syscall` stays in ring 3, where the stub's popfq cannot set IF again: it is left set (shim.S). */
const SFMASK_PVM = SFMASK & ~0x200n;
/**
 * APIC base MSR with an irqchip: the default base, enabled, in x2APIC mode (the shim programs
 * the timer with wrmsr); vCPU 0 is the bootstrap processor.
 */
const APIC_BASE = 0xfee00000n | 1n << 11n | 1n << 10n;
const APIC_BSP = 1n << 8n;
const CPUID_1_ECX_X2APIC = 1 << 21;
/** The LAPIC timer's initial count for one tick: KVM's APIC bus runs at 1 GHz, and the shim divides by 1. */
const TIMER_COUNT = TICK_MS * 1_000_000;
/** XCR0 features the shim enables when the CPU has them: x87, SSE, AVX, AVX-512 (opmask, ZMM). */
const XCR0_WANTED = 0xe7n;

const kick = koffi.load(fileURLToPath(new URL('../../../native/libstarling-kvm.so', import.meta.url)));
const kickSetup = kick.func('int starling_kvm_kick_setup(int sig, uint64_t immediate_exit)');

export class KvmVcpu {
  readonly fd: number;
  private readonly run8: Uint8Array;
  private readonly runView: DataView;
  /** kvm_run's sync_regs.regs (struct kvm_regs) and sync_regs.sregs. */
  readonly regs: BigInt64Array;
  private readonly sregs: Uint8Array;
  private readonly sregsView: DataView;
  private readonly userSregs = new Uint8Array(KVM_SREGS_BYTES);
  private readonly kernelSregs = new Uint8Array(KVM_SREGS_BYTES);
  private readonly buf = new IoctlBuffer(8 + KVM_CPUID_ENTRY_BYTES * 256);
  private readonly xsaveBuf = new IoctlBuffer(KVM_XSAVE_BYTES);
  private readonly area64: BigUint64Array;
  private readonly area32: Int32Array;
  private readonly areaWords: Uint32Array;
  private readonly areaI64: BigInt64Array;
  /** The FPU/SSE/AVX state of a process as Linux starts it (x87 control word 0x37f, MXCSR 0x1f80). */
  readonly initialXsave: Uint8Array;
  /** Whose user-mode segments are loaded while the vCPU waits in ring 3 at the syscall entry (the fast way back). */
  userReady: object | null = null;
  /**
   * Whose FPU state the vCPU holds, newer than that owner's xsave copy: an engine (its current
   * thread's), or the saved context of a thread that left it (KvmBackend.saveContext).
   */
  fpuOwner: { xsave: Uint8Array } | null = null;
  /** Addresses of the shim's exits (each an `out`), by what they report. */
  private readonly syscallExit: bigint;
  private readonly yieldExit: bigint;
  private readonly exceptionExit: bigint;
  private readonly pteUpdatesExit: bigint;
  /** The exit profile (shared-mem/kvm-exits.ts): the last KVM_RUN's length, when it returned, and what for. */
  private readonly exitCells: Float64Array;
  private lastRunMs = 0;
  private exitAt = 0;
  private exitCause: ExitCause | null = null;
  private readonly apicTimerExit: bigint;
  /** Whether the LAPIC timer ticks (irqchip only): from a run with TICK_WANTED set until the worker goes idle. */
  private timerRunning = false;

  constructor(private readonly kvm: KvmTask, readonly cpu: number, private readonly control: Int32Array) {
    this.fd = ioctlOrThrow('CREATE_VCPU', kvm.vmFd, Ioctl.CREATE_VCPU, cpu);
    const size = ioctlOrThrow('GET_VCPU_MMAP_SIZE', kvm.kvmFd, Ioctl.GET_VCPU_MMAP_SIZE);
    const runBuffer = new SharedArrayBuffer(size, { maxByteLength: size });
    const at = addressOf(runBuffer);
    const PROT_RW = 3, MAP_SHARED_FIXED = 0x11;
    if (hostSyscall(9, at, size, PROT_RW, MAP_SHARED_FIXED, this.fd, 0) !== at) throw new Error('KVM: cannot map kvm_run');
    this.run8 = new Uint8Array(runBuffer);
    this.runView = new DataView(runBuffer);
    this.regs = new BigInt64Array(runBuffer, Run.SYNC_REGS, 18);
    this.sregs = new Uint8Array(runBuffer, Run.SYNC_SREGS, KVM_SREGS_BYTES);
    this.sregsView = new DataView(runBuffer, Run.SYNC_SREGS, KVM_SREGS_BYTES);
    this.area64 = new BigUint64Array(kvm.area);
    this.area32 = new Int32Array(kvm.area);
    this.areaWords = new Uint32Array(kvm.area);
    this.areaI64 = new BigInt64Array(kvm.area);
    this.exitCells = new Float64Array(kvm.exits);
    const base = kvm.kernelBase;
    this.syscallExit = base + BigInt(Stub.SYSCALL_EXIT);
    this.yieldExit = base + BigInt(Stub.YIELD_EXIT);
    this.exceptionExit = base + BigInt(Shim.EXCEPTION_EXIT);
    this.pteUpdatesExit = base + BigInt(Shim.APPLY_PTE_UPDATES_EXIT);
    this.apicTimerExit = base + BigInt(Shim.PROGRAM_APIC_TIMER_EXIT);
    // KVM.md's order: CPUID, segments, XCRs, MSRs (APIC base), then registers (each run).
    this.setUpCpuid();
    this.setUpSregs();
    this.setUpXcr0();
    ioctlOrThrow('SET_MSRS', this.fd, Ioctl.SET_MSRS, msrList(this.buf, [
      [Msr.STAR, BigInt(Selector.USER32_CS) << 48n | BigInt(Selector.KERNEL_CS) << 32n],
      [Msr.LSTAR, base + BigInt(kvm.pvm ? Stub.ENTRIES + Stub.ENTRY_STRIDE * cpu : Stub.SYSCALL_EXIT)],
      [Msr.SFMASK, kvm.pvm ? SFMASK_PVM : SFMASK],
      ...(kvm.irqchip ? [[Msr.APIC_BASE, this.apicBase]] as Array<[number, bigint]> : []),
    ]));
    if (kvm.irqchip) {
      // With an irqchip, vCPUs other than the first start waiting for INIT/SIPI.
      this.buf.view.setUint32(0, MP_STATE_RUNNABLE, true);
      ioctlOrThrow('SET_MP_STATE', this.fd, Ioctl.SET_MP_STATE, this.buf.address);
    }
    ioctlOrThrow('GET_XSAVE', this.fd, Ioctl.GET_XSAVE, this.xsaveBuf.address);
    this.initialXsave = this.xsaveBuf.bytes.slice();
    if (ioctl(kvm.kvmFd, Ioctl.CHECK_EXTENSION, Cap.SYNC_REGS) & (SyncRegs.REGS | SyncRegs.SREGS)) {
      this.runView.setBigUint64(Run.VALID_REGS, BigInt(SyncRegs.REGS | SyncRegs.SREGS), true);
    } else {
      throw new Error('KVM: no KVM_CAP_SYNC_REGS');
    }
    if (kvm.irqchip) {
      // Enables the APIC (a software-disabled one drops MSI kicks), its timer stopped.
      this.runShimRoutine(Shim.PROGRAM_APIC_TIMER, 0n, ExitCause.OTHER);
    } else {
      if (kickSetup(KICK_SIGNAL, at + Run.IMMEDIATE_EXIT) !== 0) throw new Error('KVM: cannot install the kick handler');
      Atomics.store(control, Control.KICK_TID_BASE + cpu, hostSyscall(186));
    }
  }

  private get apicBase(): bigint {
    return APIC_BASE | (this.cpu === 0 ? APIC_BSP : 0n);
  }

  /** The host's CPUID as KVM supports it, without what the shim does not enable (PKU, LA57). */
  private setUpCpuid(): void {
    const v = this.buf.view;
    v.setUint32(0, 256, true);
    ioctlOrThrow('GET_SUPPORTED_CPUID', this.kvm.kvmFd, Ioctl.GET_SUPPORTED_CPUID, this.buf.address);
    const n = v.getUint32(0, true);
    for (let i = 0; i < n; i++) {
      const e = 8 + i * KVM_CPUID_ENTRY_BYTES;
      const fn = v.getUint32(e, true), index = v.getUint32(e + 4, true);
      if (fn === 1 && this.kvm.irqchip) v.setUint32(e + 20, v.getUint32(e + 20, true) | CPUID_1_ECX_X2APIC, true); // KVM emulates x2APIC on its in-kernel LAPIC
      if (fn === 7 && index === 0) {
        const ecx = e + 20;
        v.setUint32(ecx, v.getUint32(ecx, true) & ~((1 << 3) | (1 << 4) | (1 << 16)), true); // PKU, OSPKE, LA57
      }
    }
    ioctlOrThrow('SET_CPUID2', this.fd, Ioctl.SET_CPUID2, this.buf.address);
    this.xcr0 = XCR0_WANTED & this.supportedXcr0(n);
  }

  private xcr0 = 1n;

  private supportedXcr0(n: number): bigint {
    const v = this.buf.view;
    for (let i = 0; i < n; i++) {
      const e = 8 + i * KVM_CPUID_ENTRY_BYTES;
      if (v.getUint32(e, true) === 0xd && v.getUint32(e + 4, true) === 0) return BigInt(v.getUint32(e + 8, true));
    }
    return 3n;
  }

  private setUpXcr0(): void {
    const v = this.buf.view;
    this.buf.bytes.fill(0, 0, 392);
    v.setUint32(0, 1, true); // nr_xcrs
    v.setUint32(8, 0, true); // XCR0
    v.setBigUint64(16, this.xcr0 | 1n, true);
    ioctlOrThrow('SET_XCRS', this.fd, Ioctl.SET_XCRS, this.buf.address);
  }

  /** Builds the user-mode and kernel-mode segment states and starts the vCPU in user mode. */
  private setUpSregs(): void {
    ioctlOrThrow('GET_SREGS', this.fd, Ioctl.GET_SREGS, this.buf.address);
    const base = this.kvm.kernelBase;
    for (const [s, ring] of [[this.userSregs, 3], [this.kernelSregs, 0]] as const) {
      s.set(this.buf.bytes.subarray(0, KVM_SREGS_BYTES));
      const v = new DataView(s.buffer, s.byteOffset, s.byteLength);
      const code = ring === 3 ? Selector.USER_CS : Selector.KERNEL_CS;
      const data = ring === 3 ? Selector.USER_DS : Selector.KERNEL_DS;
      segment(v, Sregs.CS, { selector: code, type: 11, dpl: ring, l: 1, db: 0 });
      for (const at of [Sregs.DS, Sregs.ES, Sregs.SS]) segment(v, at, { selector: data, type: 3, dpl: ring, l: 0, db: 1 });
      for (const at of [Sregs.FS, Sregs.GS]) segment(v, at, { selector: 0, type: 3, dpl: ring, l: 0, db: 1 });
      segment(v, Sregs.TR, { selector: Selector.TSS + 16 * this.cpu, type: 11, dpl: 0, l: 0, db: 0, system: true,
        base: base + BigInt(Area.TSS + 0x100 * this.cpu), limit: tssLimit() });
      segment(v, Sregs.LDT, { selector: 0, type: 2, dpl: 0, l: 0, db: 0, system: true, unusable: true });
      v.setBigUint64(Sregs.GDT, base + BigInt(Area.GDT), true);
      v.setUint16(Sregs.GDT + 8, 0xfff, true);
      v.setBigUint64(Sregs.IDT, base + BigInt(Area.IDT), true);
      v.setUint16(Sregs.IDT + 8, 0xfff, true);
      v.setBigUint64(Sregs.CR0, CR0, true);
      v.setBigUint64(Sregs.CR3, KERNEL_CR3, true);
      v.setBigUint64(Sregs.CR4, CR4, true);
      v.setBigUint64(Sregs.EFER, EFER, true);
      // Every sync of the segments sets the APIC base too (KVM's set_sregs): it must say x2APIC.
      if (this.kvm.irqchip) v.setBigUint64(Sregs.APIC_BASE, this.apicBase, true);
      s.fill(0, Sregs.INTERRUPT_BITMAP);
    }
    this.buf.bytes.set(this.userSregs);
    ioctlOrThrow('SET_SREGS', this.fd, Ioctl.SET_SREGS, this.buf.address);
  }

  /** Loads user mode (segments, CR3, FS/GS base) with the next run. */
  loadUserSregs(cr3: bigint, fsBase: bigint, gsBase: bigint): void {
    this.sregs.set(this.userSregs);
    const v = new DataView(this.sregs.buffer, this.sregs.byteOffset, KVM_SREGS_BYTES);
    v.setBigUint64(Sregs.CR3, cr3, true);
    v.setBigUint64(Sregs.FS + Seg.BASE, fsBase, true);
    v.setBigUint64(Sregs.GS + Seg.BASE, gsBase, true);
    this.markDirty(SyncRegs.SREGS);
  }

  markDirty(which: number): void {
    const old = this.runView.getBigUint64(Run.DIRTY_REGS, true);
    this.runView.setBigUint64(Run.DIRTY_REGS, old | BigInt(which), true);
  }

  /**
   * After an EINTR: whether KVM returned before applying the registers we marked dirty
   * (sync_regs clears the bits it applies; a kernel that tests immediate_exit first leaves
   * them). Then the vCPU holds whatever it held, and the next load writes everything again.
   */
  takeUnappliedLoad(): boolean {
    if (this.runView.getBigUint64(Run.DIRTY_REGS, true) === 0n) return false;
    this.runView.setBigUint64(Run.DIRTY_REGS, 0n, true);
    this.userReady = null;
    return true;
  }

  get cr2(): bigint {
    return new DataView(this.sregs.buffer, this.sregs.byteOffset).getBigUint64(Sregs.CR2, true);
  }

  get exitReason(): number {
    return this.runView.getUint32(Run.EXIT_REASON, true);
  }

  /**
   * Which of the shim's exits the vCPU stopped at, if any. KVM reports RIP past the `out` when
   * it emulated it (PVM), or at it (VMX/SVM's fast path): both count.
   */
  shimExit(): 'syscall' | 'yield' | 'exception' | 'routine' | 'port' | null {
    if (this.exitReason !== Exit.IO || this.run8[Run.IO_DIRECTION] !== 1 || this.runView.getUint16(Run.IO_PORT, true) !== Shim.EXIT_PORT) return null;
    const rip = BigInt.asUintN(64, this.regs[KvmReg.RIP]);
    const at = (out: bigint) => rip === out || rip === out + 2n;
    if (at(this.syscallExit)) return 'syscall';
    if (at(this.yieldExit)) return 'yield';
    return at(this.exceptionExit) ? 'exception' : at(this.pteUpdatesExit) || at(this.apicTimerExit) ? 'routine' : 'port';
  }

  /** The offset in the shim of a user RIP inside the PVM syscall stub, else null. */
  stubOffset(rip: bigint): number | null {
    const off = BigInt.asUintN(64, rip) - this.kvm.kernelBase;
    return this.kvm.pvm && off >= BigInt(Stub.ENTRIES) && off < BigInt(Stub.END) ? Number(off) : null;
  }

  /** This vCPU's slot, or cpu's, in the syscall mailbox of the address space whose PML4 is at cr3. */
  mailboxSlot(cr3: bigint, cpu = this.cpu): MailboxSlot {
    return new MailboxSlot(this.control, cpu, this.area32, this.areaI64, mailboxSlotOffset(this.areaWords, cr3, cpu), this.exitCells);
  }

  get pvm(): boolean {
    return this.kvm.pvm;
  }

  exitDetail(): string {
    return `exit reason ${this.exitReason} (detail 0x${this.runView.getBigUint64(Run.EXIT_DETAIL, true).toString(16)}) at 0x${BigInt.asUintN(64, this.regs[KvmReg.RIP]).toString(16)}`;
  }

  /** Top of this vCPU's kernel stack (RSP0): where an event from user mode puts its frame. */
  get stackTop(): bigint {
    return this.kvm.kernelBase + BigInt(Area.STACKS + 0x1000 * (this.cpu + 1));
  }

  /** The vector whose shim entry holds rip, if it is one. */
  shimVector(rip: bigint): number | null {
    const off = BigInt.asUintN(64, rip) - this.kvm.kernelBase - BigInt(Area.SHIM);
    return off >= 0n && off < BigInt(Shim.VECTORS * Shim.VECTOR_STRIDE) ? Math.floor(Number(off) / Shim.VECTOR_STRIDE) : null;
  }

  /** Reads a u64 of the kernel area at a kernel-virtual address (the shim's stack). */
  kernelU64(address: bigint): bigint {
    return this.area64[Number(address - this.kvm.kernelBase) / 8];
  }

  get preemptRequested(): boolean {
    return Atomics.load(this.control, Control.PREEMPT_REQUEST_BASE + this.cpu) !== 0;
  }

  private get tickWanted(): boolean {
    return Atomics.load(this.control, Control.TICK_WANTED_BASE + this.cpu) !== 0;
  }

  /**
   * Whether a preemption interrupt ends the thread's turn: a kick asked for it, or a tick of the
   * timer came while other threads wait for this vCPU. Otherwise (a tick nobody needs, or the
   * interrupt that asks a vCPU to start its timer) the thread goes on.
   */
  get sliceOver(): boolean {
    return this.preemptRequested || (this.timerRunning && this.tickWanted);
  }

  /**
   * The worker enters (true) or leaves (false) the span in which only an interrupt reaches it
   * (KvmBackend.run): kickers send an MSI only inside it (shared-mem/preempt.ts). Entering
   * returns whether a preemption was already asked for.
   */
  guestSpan(inside: boolean): boolean {
    if (!this.kvm.irqchip) return this.preemptRequested;
    Atomics.store(this.control, Control.KVM_IN_GUEST_BASE + this.cpu, inside ? 1 : 0);
    return inside && this.preemptRequested;
  }

  /**
   * Before each entry into guest code: starts the periodic LAPIC timer when threads wait for
   * this vCPU (irqchip only). It is not stopped when they no longer do (that costs an entry,
   * and the word changes often), but only when the worker goes idle; until then a tick nobody
   * needs costs one exit (sliceOver).
   */
  syncTimer(): void {
    if (!this.kvm.irqchip || this.timerRunning || !this.tickWanted) return;
    this.runShimRoutine(Shim.PROGRAM_APIC_TIMER, BigInt(TIMER_COUNT), ExitCause.OTHER);
    this.timerRunning = true;
    Atomics.store(this.control, Control.KVM_TIMER_ON_BASE + this.cpu, 1);
  }

  /** Stops the timer: an idle vCPU costs the host nothing. */
  stopTimer(): void {
    if (!this.timerRunning) return;
    this.runShimRoutine(Shim.PROGRAM_APIC_TIMER, 0n, ExitCause.OTHER);
    this.timerRunning = false;
    Atomics.store(this.control, Control.KVM_TIMER_ON_BASE + this.cpu, 0);
  }

  /** Whether kicks are signals that interrupt KVM_RUN (no irqchip); with one they are MSIs. */
  get kickedBySignal(): boolean {
    return !this.kvm.irqchip;
  }

  /** Whether the vCPU stopped in ring 3 (by the synced CS). */
  get inUserMode(): boolean {
    return (this.sregs[Sregs.CS + Seg.SELECTOR] & 3) === 3;
  }

  /** KVM_RUN: 0 after an exit, -EINTR when kicked by a signal (no irqchip). The caller says what the exit was (noteExit). */
  enter(): number {
    const start = performance.now();
    this.chargeHost(start);
    const r = hostSyscall(16, this.fd, Ioctl.RUN, 0);
    this.run8[Run.IMMEDIATE_EXIT] = 0;
    this.exitAt = performance.now();
    this.lastRunMs = this.exitAt - start;
    return r;
  }

  /** Counts the KVM_RUN that just returned under cause; the host time until the next one is charged to it too. */
  noteExit(cause: ExitCause): void {
    const c = this.exitCells;
    c[exitCell(this.cpu, cause, ExitField.COUNT)]++;
    c[exitCell(this.cpu, cause, ExitField.RUN_MS)] += this.lastRunMs;
    this.exitCause = cause;
  }

  /** The backend gives the thread back to the run loop: the last exit's handling ends here. */
  noteHandled(): void {
    this.chargeHost(performance.now());
    this.exitCause = null;
  }

  private chargeHost(now: number): void {
    if (this.exitCause !== null) this.exitCells[exitCell(this.cpu, this.exitCause, ExitField.HOST_MS)] += now - this.exitAt;
  }

  /**
   * Queues the preemption interrupt (no irqchip): KVM delivers it through the IDT when the vCPU
   * next runs with interrupts enabled (user mode always is), and the shim exits with its vector.
   */
  queuePreemptInterrupt(): void {
    this.buf.view.setUint32(0, PREEMPT_VECTOR, true);
    ioctlOrThrow('INTERRUPT', this.fd, Ioctl.INTERRUPT, this.buf.address);
  }

  saveFpu(into: Uint8Array): void {
    ioctlOrThrow('GET_XSAVE', this.fd, Ioctl.GET_XSAVE, this.xsaveBuf.address);
    into.set(this.xsaveBuf.bytes);
  }

  loadFpu(from: Uint8Array): void {
    this.xsaveBuf.bytes.set(from);
    ioctlOrThrow('SET_XSAVE', this.fd, Ioctl.SET_XSAVE, this.xsaveBuf.address);
  }

  /**
   * Runs the shim's apply_pte_updates over the updates, in mailbox-sized batches, on the page
   * tables being changed (cr3: every PML4 holds the kernel half). Switching to the kernel-only
   * PML4 and back made each run cost about 370 us on PVM against 120-150 us (measured while
   * ffmpeg starts): the shadow MMU rebuilds what it dropped for the other root.
   */
  applyPteUpdates(updates: readonly PteUpdate[], cr3: bigint): void {
    if (updates.length === 0) return;
    const base = this.kvm.kernelBase;
    const mailbox = Area.MAILBOXES + 0x1000 * this.cpu;
    const m = mailbox / 8;
    for (let from = 0; from < updates.length; from += MAILBOX_MAX_UPDATES) {
      const batch = updates.slice(from, from + MAILBOX_MAX_UPDATES);
      this.area64[m] = BigInt(batch.length);
      batch.forEach(([pte, value, address], i) => {
        this.area64[m + 1 + 3 * i] = pte;
        this.area64[m + 2 + 3 * i] = value;
        this.area64[m + 3 + 3 * i] = address;
      });
      this.runShimRoutine(Shim.APPLY_PTE_UPDATES, base + BigInt(mailbox), ExitCause.PTE_UPDATES, cr3);
    }
  }

  /**
   * Runs one of the shim's ring-0 routines (interrupts disabled) with RDI = arg to its exit, on
   * the page tables cr3 (every PML4 holds the kernel half), its KVM_RUNs counted under cause.
   * It is served inside another exit's handling (a munmap's syscall, the run loop's timer
   * switch): that exit's cause gets the host time after it.
   */
  private runShimRoutine(entry: number, arg: bigint, cause: ExitCause, cr3: bigint = KERNEL_CR3): void {
    const outer = this.exitCause;
    const r = this.regs;
    for (;;) {
      this.sregs.set(this.kernelSregs);
      this.sregsView.setBigUint64(Sregs.CR3, cr3, true);
      r[KvmReg.RIP] = this.kvm.kernelBase + BigInt(entry);
      r[KvmReg.RSP] = this.stackTop;
      r[KvmReg.RDI] = arg;
      r[KvmReg.RFLAGS] = 2n;
      this.markDirty(SyncRegs.REGS | SyncRegs.SREGS);
      // A kick may interrupt the routine: run it again (apply_pte_updates resumes at the entries
      // not yet written, as it counts them down in the mailbox; programming the timer twice is harmless).
      const rc = this.enter();
      this.noteExit(cause);
      if (rc === -E.EINTR) continue;
      if (rc < 0) throw new Error(`KVM_RUN: errno ${-rc}`);
      const exit = this.shimExit();
      if (exit === 'routine') break;
      // A preemption interrupt queued (KVM_INTERRUPT) for a thread that reached an exit of its own first: gone now.
      const sp = BigInt.asUintN(64, r[KvmReg.RSP]);
      if (exit === 'exception' && this.kernelU64(sp) === BigInt(PREEMPT_VECTOR)) continue;
      throw new Error(`KVM: shim routine 0x${entry.toString(16)} failed: ${this.exitDetail()} (vector ${this.kernelU64(sp)}, error ${this.kernelU64(sp + 8n)})`);
    }
    this.chargeHost(performance.now());
    this.exitCause = outer;
    this.userReady = null;
  }
}

function segment(v: DataView, at: number, s: { selector: number; type: number; dpl: number; l: number; db: number; system?: boolean; base?: bigint; limit?: number; unusable?: boolean }): void {
  v.setBigUint64(at + Seg.BASE, s.base ?? 0n, true);
  v.setUint32(at + Seg.LIMIT, s.limit ?? 0xffffffff, true);
  v.setUint16(at + Seg.SELECTOR, s.selector, true);
  v.setUint8(at + Seg.TYPE, s.type);
  v.setUint8(at + Seg.PRESENT, s.unusable ? 0 : 1);
  v.setUint8(at + Seg.DPL, s.dpl);
  v.setUint8(at + Seg.DB, s.db);
  v.setUint8(at + Seg.S, s.system ? 0 : 1);
  v.setUint8(at + Seg.L, s.l);
  v.setUint8(at + Seg.G, s.system ? 0 : 1);
  v.setUint8(at + Seg.AVL, 0);
  v.setUint8(at + Seg.UNUSABLE, s.unusable ? 1 : 0);
}
