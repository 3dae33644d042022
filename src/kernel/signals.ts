// Signal generation and delivery: pending sets, default actions, the x86-64 rt_sigframe a
// handler runs on, and rt_sigreturn. The vCPU calls deliverPending() before it runs a thread,
// so a signal reaches a thread on return from any syscall or trap, and interruptible waits
// end with EINTR (or a restart, under SA_RESTART) when a signal arrives.
import { Reg, REG_COUNT, type CpuBackend } from '../cpu-worker/backend.js';
import { Errno } from './errno.js';
import type { Process, SigAction, Thread } from './task.js';
import type { SyscallResult } from './syscall.js';
import { notifySignalfds } from './signalfd.js';

export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11,
  USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20,
  TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
} as const;
export const NSIG = 64;
export const SIG_DFL = 0, SIG_IGN = 1;
export const SA = { NOCLDSTOP: 1, NOCLDWAIT: 2, SIGINFO: 4, ONSTACK: 0x08000000, RESTART: 0x10000000, NODEFER: 0x40000000, RESETHAND: 0x80000000, RESTORER: 0x04000000 } as const;
export const SI = { USER: 0, KERNEL: 0x80, QUEUE: -1, TKILL: -6 } as const;
export const UNBLOCKABLE = bit(SIG.KILL) | bit(SIG.STOP);

export function bit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

const IGNORED_BY_DEFAULT = new Set<number>([SIG.CHLD, SIG.CONT, SIG.URG, SIG.WINCH]);
const STOP_SIGNALS = new Set<number>([SIG.STOP, SIG.TSTP, SIG.TTIN, SIG.TTOU]);

/** What a signal carries into its handler's siginfo_t. */
export interface SigInfo {
  signo: number;
  code: number;
  pid?: number;
  uid?: number;
  status?: number;
  addr?: number;
  value?: number;
}

function actionOf(p: Process, sig: number): SigAction {
  return p.sigactions.get(sig) ?? { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };
}

/** Whether sending sig to p has any effect at all (ignored signals are dropped at once, as Linux does). */
function ignored(p: Process, sig: number): boolean {
  const h = actionOf(p, sig).handler;
  return h === SIG_IGN || (h === SIG_DFL && IGNORED_BY_DEFAULT.has(sig));
}

/** Queues sig for thread t (tgkill) or, with t null, for process p (kill); wakes whoever can take it. */
export function sendSignal(p: Process, t: Thread | null, info: SigInfo): void {
  const sig = info.signo;
  if (sig === 0 || p.exitStatus !== null) return;
  // Blocked signals are never dropped as ignored: the disposition may change before they are
  // unblocked, and signalfd and sigwaitinfo take them (Linux's sig_ignored).
  const blockedByAll = (t ? [t] : [...p.threads]).every((x) => (x.sigmask & bit(sig)) !== 0n);
  // Job control acts when the signal is sent: SIGCONT resumes a stopped process (and cancels
  // pending stops) whatever its disposition; a stop signal cancels a pending SIGCONT; SIGKILL
  // must be able to reach a stopped process.
  if (sig === SIG.CONT || sig === SIG.KILL) {
    for (const owner of [p, ...p.threads]) for (const stop of STOP_SIGNALS) owner.pendingSignals &= ~bit(stop);
    p.kernel.scheduler.continueProcess(p);
  } else if (STOP_SIGNALS.has(sig)) {
    for (const owner of [p, ...p.threads]) owner.pendingSignals &= ~bit(SIG.CONT);
  }
  if (ignored(p, sig) && sig !== SIG.KILL && !blockedByAll) return;
  if (t) {
    t.pendingSignals |= bit(sig);
    t.pendingInfo.set(sig, info);
  } else {
    p.pendingSignals |= bit(sig);
    p.pendingInfo.set(sig, info);
  }
  notifySignalfds(p, sig);
  // A thread that does not block it and is parked in an interruptible wait is woken to take it.
  const candidates = t ? [t] : [...p.threads];
  const taker = candidates.find((x) => !(x.sigmask & bit(sig)) || sig === SIG.KILL || (x.sigwaitSet & bit(sig)) !== 0n);
  if (taker && taker.state === 'blocked' && taker.parked?.interruptible !== false) {
    taker.signalInterrupt = true;
    p.kernel.scheduler.wake(taker);
  } else if (taker && taker.state === 'running') {
    p.kernel.scheduler.interrupt(taker);
  }
}

/** The next signal t may take now (thread-directed first), or null; with among, only those signals, blocked or not. */
export function takePending(t: Thread, among: bigint | null = null): SigInfo | null {
  const p = t.process;
  for (const [owner, set] of [[t, t.pendingSignals], [p, p.pendingSignals]] as const) {
    const deliverable = among === null ? set & ~(t.sigmask & ~UNBLOCKABLE) : set & among;
    if (!deliverable) continue;
    let sig = 1;
    while (!(deliverable & bit(sig))) sig++;
    owner.pendingSignals &= ~bit(sig);
    const info = owner.pendingInfo.get(sig) ?? { signo: sig, code: SI.KERNEL };
    owner.pendingInfo.delete(sig);
    return info;
  }
  return null;
}

export function hasDeliverable(t: Thread): boolean {
  const pending = t.pendingSignals | t.process.pendingSignals;
  return (pending & ~(t.sigmask & ~UNBLOCKABLE)) !== 0n;
}

export type Delivery = { kind: 'none' } | { kind: 'handler' } | { kind: 'fatal'; status: number } | { kind: 'stop'; sig: number };

/**
 * Delivers every deliverable pending signal of t: default actions, or a handler frame built
 * on the stack (the handler runs when the engine resumes). Returns 'fatal' with the wait
 * status when a signal ends the process.
 */
export function deliverPending(t: Thread, engine: CpuBackend, restart: RestartDecision | null): Delivery {
  let result: Delivery = { kind: 'none' };
  for (let info = takePending(t); info; info = takePending(t)) {
    const sig = info.signo;
    const action = actionOf(t.process, sig);
    if (restart) {
      restart.apply(action);
      restart = null;
    }
    if (action.handler === SIG_IGN) continue;
    if (action.handler === SIG_DFL) {
      if (IGNORED_BY_DEFAULT.has(sig)) continue;
      if (STOP_SIGNALS.has(sig)) return { kind: 'stop', sig };
      return { kind: 'fatal', status: sig };
    }
    if (!buildFrame(t, engine, info, action)) return { kind: 'fatal', status: SIG.SEGV };
    if (action.flags & SA.RESETHAND) t.process.sigactions.delete(sig);
    result = { kind: 'handler' };
    // Further signals nest on top: the newest frame runs first, as on Linux.
  }
  if (restart) restart.apply(null);
  return result;
}

/** How an interrupted syscall ends: EINTR, or restarted when the handler has SA_RESTART. */
export class RestartDecision {
  constructor(
    private readonly engine: CpuBackend,
    private readonly restartable: boolean,
    private readonly nr: number,
    private readonly interrupted: () => number = () => -4 /* EINTR */,
    /** What the call already moved (bytes, messages): when some, that count is its result. */
    private readonly moved: () => number = () => 0,
  ) {}

  apply(action: SigAction | null): void {
    // Linux restarts a call that no handler interrupted (ignored, default-ignored, stop) and,
    // under SA_RESTART, one a handler did; a call that already moved data returns its count.
    const moved = this.moved();
    if (moved > 0) {
      this.engine.completeSyscall(moved);
    } else if (this.restartable && (action === null || action.handler === SIG_IGN || action.handler === SIG_DFL || action.flags & SA.RESTART)) {
      // Back to the syscall instruction with the number in RAX: the call runs again.
      this.engine.setReg(Reg.RIP, this.engine.getReg(Reg.RIP) - 2);
      this.engine.setReg(Reg.RAX, this.nr);
    } else {
      this.engine.completeSyscall(this.interrupted());
    }
  }
}

const FRAME = {
  SIZE: 8 + 304 + 128, // pretcode, ucontext, siginfo
  UC: 8,
  UC_STACK: 8 + 16,
  MCONTEXT: 8 + 40,
  SIGMASK: 8 + 40 + 256,
  INFO: 8 + 304,
  FPSTATE_SIZE: 512,
} as const;
/** struct sigcontext's general registers, in its order, as backend registers. */
const MCONTEXT_REGS = [
  Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15, Reg.RDI, Reg.RSI, Reg.RBP,
  Reg.RBX, Reg.RDX, Reg.RAX, Reg.RCX, Reg.RSP, Reg.RIP, Reg.EFLAGS,
];
const SS_ONSTACK = 1, SS_DISABLE = 2;
const MAX_SAVED_CONTEXTS = 64;
/** uc_flags Linux sets on x86-64: UC_FP_XSTATE is not set, as the fpstate is a plain fxsave area. */
const UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;

function onAltStack(t: Thread, sp: number): boolean {
  const a = t.altStack;
  return !(a.flags & SS_DISABLE) && sp > a.sp && sp <= a.sp + a.size;
}

/** Writes the rt_sigframe and points the registers at the handler. False when the stack is unusable. */
function buildFrame(t: Thread, engine: CpuBackend, info: SigInfo, action: SigAction): boolean {
  const regs = new BigInt64Array(REG_COUNT);
  engine.getRegs(regs);
  const rsp = Number(regs[Reg.RSP]);
  let sp = rsp;
  if (action.flags & SA.ONSTACK && !(t.altStack.flags & SS_DISABLE) && !onAltStack(t, rsp)) sp = t.altStack.sp + t.altStack.size;
  else sp -= 128; // the red zone
  const fpstate = Math.floor((sp - FRAME.FPSTATE_SIZE) / 64) * 64;
  const frame = Math.floor((fpstate - FRAME.SIZE) / 16) * 16 - 8;
  const bytes = new Uint8Array(FRAME.SIZE);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(0, BigInt(action.restorer), true);
  dv.setBigUint64(FRAME.UC, BigInt(UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  dv.setBigUint64(FRAME.UC_STACK, BigInt(t.altStack.sp), true);
  dv.setInt32(FRAME.UC_STACK + 8, t.altStack.flags & SS_DISABLE ? SS_DISABLE : onAltStack(t, rsp) ? SS_ONSTACK : 0, true);
  dv.setBigUint64(FRAME.UC_STACK + 16, BigInt(t.altStack.size), true);
  MCONTEXT_REGS.forEach((r, i) => dv.setBigInt64(FRAME.MCONTEXT + i * 8, regs[r], true));
  dv.setUint16(FRAME.MCONTEXT + 18 * 8, 0x33, true); // cs
  dv.setUint16(FRAME.MCONTEXT + 18 * 8 + 6, 0x2b, true); // ss
  dv.setBigUint64(FRAME.MCONTEXT + 19 * 8, 0n, true); // err
  dv.setBigUint64(FRAME.MCONTEXT + 20 * 8, BigInt(info.signo === SIG.SEGV ? 14 : 0), true); // trapno
  dv.setBigUint64(FRAME.MCONTEXT + 21 * 8, (t.suspendedSigmask ?? t.sigmask) & 0xffffffffn, true); // oldmask
  dv.setBigUint64(FRAME.MCONTEXT + 22 * 8, BigInt(info.addr ?? 0), true); // cr2
  dv.setBigUint64(FRAME.MCONTEXT + 23 * 8, BigInt(fpstate), true);
  // rt_sigsuspend's temporary mask is not what the handler's return restores: the caller's is.
  const interruptedMask = t.suspendedSigmask ?? t.sigmask;
  t.suspendedSigmask = null;
  dv.setBigUint64(FRAME.SIGMASK, interruptedMask, true);
  writeSigInfo(dv, FRAME.INFO, info);
  try {
    t.mm.write(fpstate, fxsaveArea());
    t.mm.write(frame, bytes);
  } catch (e) {
    if (e instanceof Errno) return false;
    throw e;
  }
  // The handler may use every register; its sigreturn gets the interrupted state back from here.
  const saved = engine.newContext();
  engine.saveContext(saved);
  t.signalContexts.push(saved);
  if (t.signalContexts.length > MAX_SAVED_CONTEXTS) t.signalContexts.shift()!.free();
  t.sigmask = (interruptedMask | action.mask | (action.flags & SA.NODEFER ? 0n : bit(info.signo))) & ~UNBLOCKABLE;
  engine.setReg(Reg.RSP, frame);
  engine.setReg(Reg.RIP, action.handler);
  engine.setReg(Reg.RDI, info.signo);
  engine.setReg(Reg.RSI, frame + FRAME.INFO);
  engine.setReg(Reg.RDX, frame + FRAME.UC);
  engine.setReg(Reg.RAX, 0);
  engine.setReg(Reg.EFLAGS, engine.getReg(Reg.EFLAGS) & ~0x400); // DF clear, as the ABI requires
  return true;
}

/**
 * The fxsave-format area uc_mcontext.fpstate points at. It holds the default control words,
 * not the interrupted registers: those are kept in the uc_context saved at delivery and put
 * back by rt_sigreturn, so a handler that edits fpstate does not change them.
 */
function fxsaveArea(): Uint8Array {
  const area = new Uint8Array(FRAME.FPSTATE_SIZE);
  const dv = new DataView(area.buffer);
  dv.setUint16(0, 0x37f, true);
  dv.setUint32(24, 0x1f80, true);
  dv.setUint32(28, 0xffff, true);
  return area;
}

export function writeSigInfo(dv: DataView, at: number, info: SigInfo): void {
  dv.setInt32(at, info.signo, true);
  dv.setInt32(at + 8, info.code, true);
  if (info.addr !== undefined) {
    dv.setBigUint64(at + 16, BigInt(info.addr), true);
    return;
  }
  dv.setInt32(at + 16, info.pid ?? 0, true);
  dv.setInt32(at + 20, info.uid ?? 0, true);
  if (info.status !== undefined) dv.setInt32(at + 24, info.status, true);
  else if (info.value !== undefined) dv.setBigInt64(at + 24, BigInt(info.value), true);
}

/**
 * rt_sigreturn: the handler returned through its restorer, with RSP just past the frame's
 * pretcode. Restores the interrupted registers (general ones from the frame, which the handler
 * may have changed; the rest from the state saved at delivery), the signal mask and the
 * alternate stack state. False for a frame that cannot be read (SIGSEGV, as on Linux).
 */
export function returnFromSignal(t: Thread, engine: CpuBackend): boolean {
  const frame = engine.getReg(Reg.RSP) - 8;
  let dv: DataView;
  try {
    dv = new DataView(t.mm.read(frame, FRAME.SIZE).buffer);
  } catch (e) {
    if (e instanceof Errno) return false;
    throw e;
  }
  const saved = t.signalContexts.pop();
  if (saved) {
    engine.restoreContext(saved);
    saved.free();
  }
  const regs = new BigInt64Array(REG_COUNT);
  engine.getRegs(regs);
  MCONTEXT_REGS.forEach((r, i) => (regs[r] = dv.getBigInt64(FRAME.MCONTEXT + i * 8, true)));
  engine.setRegs(regs);
  t.sigmask = dv.getBigUint64(FRAME.SIGMASK, true) & ~UNBLOCKABLE;
  return true;
}

/**
 * Runs a waiting call (epoll_pwait, ppoll) with a temporary signal mask, as Linux does: the
 * caller's mask comes back when the call returns, and a handler that interrupts the wait
 * returns to the caller's mask too (it is what the signal frame records).
 */
export function withTemporaryMask(t: Thread, mask: bigint, run: () => SyscallResult): SyscallResult {
  const old = t.sigmask;
  t.sigmask = mask & ~UNBLOCKABLE;
  const finish = (r: SyscallResult): SyscallResult => {
    if (typeof r !== 'number' && r.kind === 'block') {
      t.suspendedSigmask = old;
      return { ...r, resume: () => finish(r.resume()) };
    }
    t.suspendedSigmask = null;
    t.sigmask = old;
    return r;
  };
  return finish(run());
}
