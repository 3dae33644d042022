import koffi from 'koffi';
import {
  uc, UC_ARCH_X86, UC_MODE_64, UC_HOOK_INSN, UC_HOOK_MEM_UNMAPPED, UC_HOOK_MEM_PROT,
  UC_HOOK_INSN_INVALID, UC_HOOK_INTR, UC_X86_INS_SYSCALL, UC_X86_INS_CPUID, CpuidHookProto, UC_HOOK_BLOCK, PREEMPT_BLOCK_HOOK, UcMem, UcReg, UC_CTL_TB_REMOVE_CACHE_W,
  SyscallHookProto, MemHookProto, IntrHookProto, InvalidInsnHookProto, memcpy,
} from './unicorn-ffi.js';
import { MAX_CONTEXT_BYTES } from '../shared-mem/exec-slot.js';
import { guestCpuid } from './cpuid.js';
import { type ThreadContext, type CpuBackend, type StopReason, type SyscallSink, type SyscallFrame, Reg, REG_COUNT } from './backend.js';

/** Unicorn register ids in the order of backend.Reg. */
const UC_REG_OF = [
  UcReg.RAX, UcReg.RBX, UcReg.RCX, UcReg.RDX, UcReg.RSI, UcReg.RDI, UcReg.RBP, UcReg.RSP,
  UcReg.R8, UcReg.R9, UcReg.R10, UcReg.R11, UcReg.R12, UcReg.R13, UcReg.R14, UcReg.R15,
  UcReg.RIP, UcReg.EFLAGS, UcReg.FS_BASE, UcReg.GS_BASE,
];
/** What the syscall hook reads: number, six arguments, RIP, RFLAGS. */
const SYSCALL_READ = [UcReg.RAX, UcReg.RDI, UcReg.RSI, UcReg.RDX, UcReg.R10, UcReg.R8, UcReg.R9, UcReg.RIP, UcReg.EFLAGS];
/** What completing a syscall writes: RAX, and RCX/R11 as the syscall instruction does on hardware. */
const SYSCALL_WRITE = [UcReg.RAX, UcReg.RCX, UcReg.R11];

/**
 * Register batches go through a small SharedArrayBuffer: its address never moves, so the id
 * and pointer arrays that uc_reg_{read,write}_batch take are built once.
 */
class RegisterBatch {
  readonly values: BigInt64Array;
  private readonly idsView: Uint8Array;
  private readonly ptrsView: Uint8Array;

  constructor(readonly ids: readonly number[]) {
    const n = ids.length;
    const sab = new SharedArrayBuffer(n * 4 + n * 8 * 2 + 16);
    const bytes = new Uint8Array(sab);
    const base = BigInt(koffi.address(bytes) as unknown as bigint);
    const idArray = new Int32Array(sab, 0, n);
    const ptrOffset = Math.ceil((n * 4) / 8) * 8;
    const ptrArray = new BigUint64Array(sab, ptrOffset, n);
    const valOffset = ptrOffset + n * 8;
    this.values = new BigInt64Array(sab, valOffset, n);
    ids.forEach((id, i) => {
      idArray[i] = id;
      ptrArray[i] = base + BigInt(valOffset + i * 8);
    });
    this.idsView = bytes.subarray(0, n * 4);
    this.ptrsView = bytes.subarray(ptrOffset);
  }

  read(handle: unknown): void {
    uc.regReadBatch(handle, this.idsView, this.ptrsView, this.ids.length);
  }

  write(handle: unknown): void {
    uc.regWriteBatch(handle, this.idsView, this.ptrsView, this.ids.length);
  }
}

const CR0_MP = 1n << 1n, CR0_NE = 1n << 5n;
const LINUX_FPCW = 0x37fn, LINUX_MXCSR = 0x1f80n;
const CR4_OSFXSR = 1n << 9n, CR4_OSXMMEXCPT = 1n << 10n;

const ACCESS_OF_MEM_TYPE: Record<number, 'read' | 'write' | 'exec'> = {
  [UcMem.READ_UNMAPPED]: 'read', [UcMem.WRITE_UNMAPPED]: 'write', [UcMem.FETCH_UNMAPPED]: 'exec',
  [UcMem.READ_PROT]: 'read', [UcMem.WRITE_PROT]: 'write', [UcMem.FETCH_PROT]: 'exec',
};

class UnicornContext implements ThreadContext {
  constructor(readonly pointer: unknown) {}
  free(): void {
    uc.contextFree(this.pointer);
  }
}

/** One Unicorn engine: one address space as seen by one vCPU. */
export class UnicornBackend implements CpuBackend {
  readonly name = 'unicorn';
  readonly sharedMappings = false;
  readonly mapsPages = false;
  private readonly handle: unknown;
  private readonly syscallRegs = new RegisterBatch(SYSCALL_READ);
  private readonly completeRegs = new RegisterBatch(SYSCALL_WRITE);
  private readonly allRegs = new RegisterBatch(UC_REG_OF);
  private readonly cpuidRegs = new RegisterBatch([UcReg.RAX, UcReg.RBX, UcReg.RCX, UcReg.RDX]);
  private readonly oneReg: RegisterBatch[] = UC_REG_OF.map((id) => new RegisterBatch([id]));
  private readonly callbacks: unknown[] = [];
  private readonly frame: SyscallFrame = { nr: 0, args: [0, 0, 0, 0, 0, 0], rip: 0 };
  private stopReason: StopReason | null = null;
  private transfer: UnicornContext | null = null;
  private readonly contextBytes: number;

  /** preemptRequest: host address of the Int32 word that asks this engine to stop (see native/preempt.c). */
  constructor(private readonly sink: SyscallSink, preemptRequest: number) {
    const out: unknown[] = [null];
    const err = uc.open(UC_ARCH_X86, UC_MODE_64, out);
    if (err !== 0) throw new Error(`uc_open: ${uc.strerror(err)}`);
    this.handle = out[0];
    this.contextBytes = Number(uc.contextSize(this.handle));
    if (this.contextBytes > MAX_CONTEXT_BYTES) throw new Error(`uc_context_size ${this.contextBytes} exceeds ${MAX_CONTEXT_BYTES}`);
    this.setUpCpuState();
    this.addHook(UC_HOOK_INSN, SyscallHookProto, () => this.onSyscall(), UC_X86_INS_SYSCALL);
    this.addHook(UC_HOOK_MEM_UNMAPPED, MemHookProto,
      (_uc: unknown, type: number, addr: bigint) => this.onUnmapped(type, Number(addr)));
    this.addHook(UC_HOOK_MEM_PROT, MemHookProto,
      (_uc: unknown, type: number, addr: bigint) => this.onProtection(type, Number(addr)));
    this.addHook(UC_HOOK_INTR, IntrHookProto, (_uc: unknown, intno: number) => this.onInterrupt(intno));
    this.addHook(UC_HOOK_INSN_INVALID, InvalidInsnHookProto, () => this.onInvalid());
    this.addHook(UC_HOOK_INSN, CpuidHookProto, () => this.onCpuid(), UC_X86_INS_CPUID);
    check('uc_hook_add', uc.hookAddNative(this.handle, [0n], UC_HOOK_BLOCK, PREEMPT_BLOCK_HOOK.address, preemptRequest, 1, 0));
  }

  /**
   * Control registers as Linux sets them for user processes. Unicorn starts with CR4.OSFXSR
   * clear, and then fxsave/fxrstor skip the XMM registers: ld.so's lazy-binding trampoline
   * (_dl_runtime_resolve_fxsave) would hand the resolved function garbage in xmm0-7.
   * CR0.NE makes x87 errors raise #MF, as on Linux, rather than an external interrupt.
   * Unicorn also starts with the x87 control word and MXCSR at 0 (single precision, every
   * exception unmasked): Linux starts a process with 0x37f (extended precision, all masked)
   * and 0x1f80.
   */
  private setUpCpuState(): void {
    const b = new RegisterBatch([UcReg.CR0, UcReg.CR4, UcReg.FPCW, UcReg.MXCSR]);
    b.read(this.handle);
    b.values[0] |= CR0_MP | CR0_NE;
    b.values[1] |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    b.values[2] = LINUX_FPCW;
    b.values[3] = LINUX_MXCSR;
    b.write(this.handle);
  }

  private addHook(type: number, proto: ReturnType<typeof koffi.proto>, fn: (...args: any[]) => unknown, insn?: number): void {
    const cb = koffi.register(fn, koffi.pointer(proto));
    this.callbacks.push(cb);
    const hh = [0n];
    const err = insn === undefined
      ? uc.hookAdd(this.handle, hh, type, cb, null, 1n, 0n)
      : uc.hookAdd(this.handle, hh, type, cb, null, 1n, 0n, 'int', insn);
    if (err !== 0) throw new Error(`uc_hook_add: ${uc.strerror(err)}`);
  }

  private onSyscall(): void {
    const v = this.syscallRegs.values;
    this.syscallRegs.read(this.handle);
    const f = this.frame;
    f.nr = Number(v[0]);
    for (let i = 0; i < 6; i++) f.args[i] = Number(v[i + 1]);
    f.rip = Number(v[7]);
    const result = this.sink.syscall(f);
    if (result === null) {
      this.stopFromHook();
      return;
    }
    const w = this.completeRegs.values;
    w[0] = BigInt(result);
    w[1] = v[7] + 2n;
    w[2] = v[8];
    this.completeRegs.write(this.handle);
  }

  /** Answers CPUID from the guest CPU model; returning 1 tells Unicorn the instruction is done. */
  private onCpuid(): number {
    const b = this.cpuidRegs;
    b.read(this.handle);
    const [eax, ebx, ecx, edx] = guestCpuid(Number(BigInt.asUintN(32, b.values[0])), Number(BigInt.asUintN(32, b.values[2])));
    b.values[0] = BigInt(eax);
    b.values[1] = BigInt(ebx);
    b.values[2] = BigInt(ecx);
    b.values[3] = BigInt(edx);
    b.write(this.handle);
    return 1;
  }

  private onUnmapped(type: number, addr: number): boolean {
    const access = ACCESS_OF_MEM_TYPE[type] ?? 'read';
    if (this.sink.regionFault(addr, access)) return true;
    this.stopReason = { kind: 'fault', addr, access, mapped: false };
    return false;
  }

  private onProtection(type: number, addr: number): boolean {
    this.stopReason = { kind: 'fault', addr, access: ACCESS_OF_MEM_TYPE[type] ?? 'read', mapped: true };
    return false;
  }

  private onInterrupt(vector: number): void {
    this.stopReason = { kind: 'interrupt', vector, rip: this.getReg(Reg.RIP) };
    uc.emuStop(this.handle);
  }

  private onInvalid(): boolean {
    this.stopReason = { kind: 'illegal', rip: this.getReg(Reg.RIP) };
    return false;
  }

  map(vaddr: number, size: number, prot: number, hostAddress: number): void {
    check('uc_mem_map_ptr', uc.memMapPtr(this.handle, vaddr, size, prot, hostAddress));
  }

  unmap(vaddr: number, size: number): void {
    check('uc_mem_unmap', uc.memUnmap(this.handle, vaddr, size));
  }

  protect(vaddr: number, size: number, prot: number): void {
    check('uc_mem_protect', uc.memProtect(this.handle, vaddr, size, prot));
  }

  flushCode(vaddr: number, size: number): void {
    uc.ctl2(this.handle, UC_CTL_TB_REMOVE_CACHE_W, 'uint64_t', BigInt(vaddr), 'uint64_t', BigInt(vaddr + size));
  }

  run(): StopReason {
    this.stopReason = null;
    const rip = this.getReg(Reg.RIP);
    const err = uc.emuStart(this.handle, rip, 0, 0, 0);
    const reason = this.stopReason as StopReason | null;
    if (reason) return reason;
    if (err !== 0) return { kind: 'illegal', rip: this.getReg(Reg.RIP) };
    return { kind: 'preempted' };
  }

  stopFromHook(): void {
    this.stopReason = { kind: 'trap' };
    uc.emuStop(this.handle);
  }

  newContext(): ThreadContext {
    const out: unknown[] = [null];
    check('uc_context_alloc', uc.contextAlloc(this.handle, out));
    return new UnicornContext(out[0]);
  }

  saveContext(ctx: ThreadContext): void {
    check('uc_context_save', uc.contextSave(this.handle, (ctx as UnicornContext).pointer));
  }

  restoreContext(ctx: ThreadContext): void {
    check('uc_context_restore', uc.contextRestore(this.handle, (ctx as UnicornContext).pointer));
  }

  /** A uc_context is plain bytes (no pointers), so a copy restores into any engine of this build. */
  exportRegisters(into: Uint8Array): void {
    const transfer = this.transferContext();
    this.saveContext(transfer);
    memcpy(into, transfer.pointer, this.contextBytes);
  }

  importRegisters(from: Uint8Array): void {
    const transfer = this.transferContext();
    memcpy(transfer.pointer, from, this.contextBytes);
    this.restoreContext(transfer);
  }

  private transferContext(): UnicornContext {
    this.transfer ??= this.newContext() as UnicornContext;
    return this.transfer;
  }

  getRegs(out: BigInt64Array): void {
    this.allRegs.read(this.handle);
    out.set(this.allRegs.values);
  }

  setRegs(values: BigInt64Array): void {
    this.allRegs.values.set(values.subarray(0, REG_COUNT));
    this.allRegs.write(this.handle);
  }

  getReg(reg: number): number {
    const b = this.oneReg[reg];
    b.read(this.handle);
    return Number(b.values[0]);
  }

  setReg(reg: number, value: number | bigint): void {
    const b = this.oneReg[reg];
    b.values[0] = BigInt(value);
    b.write(this.handle);
  }

  completeSyscall(result: number): void {
    const rip = this.getReg(Reg.RIP);
    const flags = this.getReg(Reg.EFLAGS);
    const w = this.completeRegs.values;
    w[0] = BigInt(result);
    w[1] = BigInt(rip);
    w[2] = BigInt(flags);
    this.completeRegs.write(this.handle);
  }

  dispose(): void {
    this.transfer?.free();
    uc.close(this.handle);
    for (const cb of this.callbacks) koffi.unregister(cb as never);
  }
}

function check(what: string, err: number): void {
  if (err !== 0) throw new Error(`${what}: ${uc.strerror(err)}`);
}
