// Signal syscalls: dispositions, masks, sending (kill, tkill, tgkill), waiting (pause,
// rt_sigsuspend) and returning from a handler (rt_sigreturn). Delivery is in signals.ts.
import { E, Errno } from './errno.js';
import { block, int, leave, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Process, Thread } from './task.js';
import { hasDeliverable, NSIG, SI, sendSignal, takePending, UNBLOCKABLE, writeSigInfo, type SigInfo } from './signals.js';
import { monotonicMs, readTimespec } from './sys-time.js';

const timespecMs = (ts: { sec: number; nsec: number }) => ts.sec * 1e3 + ts.nsec / 1e6;

const SIGKILL = 9, SIGSTOP = 19;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const SIGSET_SIZE = 8;

const rtSigaction: SyscallHandler = (t, [sigArg, act, oldact, sigsetsize]) => {
  const sig = int(sigArg);
  if (sigsetsize !== SIGSET_SIZE || sig < 1 || sig > NSIG) throw new Errno(E.EINVAL);
  if (act && (sig === SIGKILL || sig === SIGSTOP)) throw new Errno(E.EINVAL);
  const actions = t.process.sigactions;
  const old = actions.get(sig) ?? { handler: 0, flags: 0, restorer: 0, mask: 0n };
  let next = null;
  if (act) {
    const dv = new DataView(t.mm.read(act, 32).buffer);
    next = {
      handler: Number(dv.getBigUint64(0, true)), flags: Number(dv.getBigUint64(8, true)),
      restorer: Number(dv.getBigUint64(16, true)), mask: dv.getBigUint64(24, true) & ~UNBLOCKABLE,
    };
  }
  if (oldact) {
    const dv = new DataView(new ArrayBuffer(32));
    dv.setBigUint64(0, BigInt(old.handler), true);
    dv.setBigUint64(8, BigInt(old.flags), true);
    dv.setBigUint64(16, BigInt(old.restorer), true);
    dv.setBigUint64(24, old.mask, true);
    t.mm.write(oldact, new Uint8Array(dv.buffer));
  }
  if (next) actions.set(sig, next);
  return 0;
};

const rtSigprocmask: SyscallHandler = (t, [howArg, set, oldset, sigsetsize]) => {
  if (sigsetsize !== SIGSET_SIZE) throw new Errno(E.EINVAL);
  const how = int(howArg);
  const old = t.sigmask;
  let next = old;
  if (set) {
    const value = new DataView(t.mm.read(set, 8).buffer).getBigUint64(0, true);
    if (how === SIG_BLOCK) next = old | value;
    else if (how === SIG_UNBLOCK) next = old & ~value;
    else if (how === SIG_SETMASK) next = value;
    else throw new Errno(E.EINVAL);
  }
  if (oldset) t.mm.writeU64(oldset, old);
  t.sigmask = next & ~UNBLOCKABLE;
  return 0;
};

const SS_ONSTACK = 1, SS_DISABLE = 2, MINSIGSTKSZ = 2048;

const sigaltstack: SyscallHandler = (t, [ss, oldSs]) => {
  const cur = t.altStack;
  if (ss) {
    const dv = new DataView(t.mm.read(ss, 24).buffer);
    const sp = Number(dv.getBigUint64(0, true)), flags = dv.getInt32(8, true), size = Number(dv.getBigUint64(16, true));
    if (flags & ~(SS_DISABLE | (1 << 31))) throw new Errno(E.EINVAL);
    if (!(flags & SS_DISABLE) && size < MINSIGSTKSZ) throw new Errno(E.ENOMEM);
    t.altStack = flags & SS_DISABLE ? { sp: 0, flags: SS_DISABLE, size: 0 } : { sp, flags, size };
  }
  if (oldSs) {
    const dv = new DataView(new ArrayBuffer(24));
    dv.setBigUint64(0, BigInt(cur.sp), true);
    dv.setInt32(8, cur.flags & ~SS_ONSTACK, true);
    dv.setBigUint64(16, BigInt(cur.size), true);
    t.mm.write(oldSs, new Uint8Array(dv.buffer));
  }
  return 0;
};

function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) throw new Errno(E.EINVAL);
}

/** The processes kill(pid) addresses: one pid, a process group, or every process but init. */
function killTargets(t: Thread, pid: number): Process[] {
  const all = [...t.kernel.scheduler.processes()].filter((p) => p.exitStatus === null);
  if (pid > 0) return all.filter((p) => p.pid === pid);
  if (pid === -1) return all.filter((p) => p.pid !== 1 && p !== t.process);
  const pgid = pid === 0 ? t.process.pgid : -pid;
  return all.filter((p) => p.pgid === pgid);
}

const kill: SyscallHandler = (t, [pidArg, sigArg]) => {
  const pid = int(pidArg), sig = int(sigArg);
  checkSignal(sig);
  const targets = killTargets(t, pid);
  if (targets.length === 0) throw new Errno(E.ESRCH);
  for (const p of targets) sendSignal(p, null, { signo: sig, code: SI.USER, pid: t.process.pid, uid: 0 });
  return 0;
};

function threadOf(t: Thread, tgid: number, tid: number): Thread {
  for (const p of t.kernel.scheduler.processes()) {
    if (tgid > 0 && p.pid !== tgid) continue;
    for (const th of p.threads) if (th.tid === tid) return th;
  }
  throw new Errno(E.ESRCH);
}

const tgkill: SyscallHandler = (t, [tgid, tid, sigArg]) => {
  const sig = int(sigArg);
  if (int(tgid) <= 0 || int(tid) <= 0) throw new Errno(E.EINVAL);
  checkSignal(sig);
  const target = threadOf(t, int(tgid), int(tid));
  sendSignal(target.process, target, { signo: sig, code: SI.TKILL, pid: t.process.pid, uid: 0 });
  return 0;
};

const tkill: SyscallHandler = (t, [tid, sigArg]) => {
  const sig = int(sigArg);
  if (int(tid) <= 0) throw new Errno(E.EINVAL);
  checkSignal(sig);
  const target = threadOf(t, 0, int(tid));
  sendSignal(target.process, target, { signo: sig, code: SI.TKILL, pid: t.process.pid, uid: 0 });
  return 0;
};

/** The vCPU restores the interrupted state (signals.ts returnFromSignal) once the engine has stopped. */
const rtSigreturn: SyscallHandler = () => leave('sigreturn');

/** Parks until a signal ends the wait (the vCPU then completes the call with EINTR). */
const waitForSignal = (): SyscallResult => block({ kind: 'event' }, waitForSignal);

const pause: SyscallHandler = () => waitForSignal();

/** pause with a temporary mask, restored when the handler returns. */
const rtSigsuspend: SyscallHandler = (t, [maskP, sigsetsize]) => {
  if (sigsetsize !== SIGSET_SIZE) throw new Errno(E.EINVAL);
  const mask = new DataView(t.mm.read(maskP, 8).buffer).getBigUint64(0, true);
  t.suspendedSigmask = t.sigmask;
  t.sigmask = mask & ~UNBLOCKABLE;
  return waitForSignal();
};

/**
 * rt_sigtimedwait: takes a pending signal of set (normally blocked by the caller) without
 * running its handler; otherwise waits for one until the timeout (EAGAIN). A signal outside
 * the set that runs a handler ends the wait with EINTR.
 */
const rtSigtimedwait: SyscallHandler = (t, [setP, infoP, timeoutP, sigsetsize]) => {
  if (sigsetsize !== SIGSET_SIZE) throw new Errno(E.EINVAL);
  const set = new DataView(t.mm.read(setP, 8).buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  const deadline = timeoutP ? monotonicMs() + timespecMs(readTimespec(t, timeoutP)) : undefined;
  const attempt = (): SyscallResult => {
    const info = takePending(t, set);
    if (info) {
      t.sigwaitSet = 0n;
      if (infoP) {
        const dv = new DataView(new ArrayBuffer(128));
        writeSigInfo(dv, 0, info);
        t.mm.write(infoP, new Uint8Array(dv.buffer));
      }
      return info.signo;
    }
    if (t.signalInterrupt && hasDeliverable(t)) {
      t.sigwaitSet = 0n;
      return -E.EINTR;
    }
    if (deadline !== undefined && monotonicMs() >= deadline) {
      t.sigwaitSet = 0n;
      return -E.EAGAIN;
    }
    t.sigwaitSet = set;
    return block({ kind: 'event', deadline }, attempt, { interruptible: 'resume', cancel: () => (t.sigwaitSet = 0n) });
  };
  return attempt();
};

/** rt_sigqueueinfo/rt_tgsigqueueinfo: kill with the caller's siginfo (si_code must be negative, as Linux requires of others' processes). */
function queueInfo(t: Thread, sig: number, infoP: number): SigInfo {
  checkSignal(sig);
  const dv = new DataView(t.mm.read(infoP, 128).buffer);
  const code = dv.getInt32(8, true);
  if (code >= 0 || code === SI.TKILL) throw new Errno(E.EPERM);
  return { signo: sig, code, pid: dv.getInt32(16, true), uid: dv.getInt32(20, true), value: Number(dv.getBigInt64(24, true)) };
}

const rtSigqueueinfo: SyscallHandler = (t, [pid, sigArg, infoP]) => {
  const info = queueInfo(t, int(sigArg), infoP);
  const target = killTargets(t, int(pid)).find((p) => p.pid === int(pid));
  if (!target) throw new Errno(E.ESRCH);
  sendSignal(target, null, info);
  return 0;
};

const rtTgsigqueueinfo: SyscallHandler = (t, [tgid, tid, sigArg, infoP]) => {
  const info = queueInfo(t, int(sigArg), infoP);
  const target = threadOf(t, int(tgid), int(tid));
  sendSignal(target.process, target, info);
  return 0;
};

const rtSigpending: SyscallHandler = (t, [set, sigsetsize]) => {
  if (sigsetsize > SIGSET_SIZE) throw new Errno(E.EINVAL);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, (t.pendingSignals | t.process.pendingSignals) & t.sigmask, true);
  t.mm.write(set, bytes.subarray(0, sigsetsize));
  return 0;
};

export const signalSyscalls: SyscallEntry[] = [
  sys(13, 'rt_sigaction', rtSigaction, ['signal', 'sigaction', 'ptr', 'size']),
  sys(14, 'rt_sigprocmask', rtSigprocmask, ['sighow', 'sigset', 'ptr', 'size']),
  sys(131, 'sigaltstack', sigaltstack, ['ptr', 'ptr']),
  sys(15, 'rt_sigreturn', rtSigreturn, [], 'none'),
  sys(34, 'pause', pause),
  sys(130, 'rt_sigsuspend', rtSigsuspend, ['sigset', 'size']),
  sys(128, 'rt_sigtimedwait', rtSigtimedwait, ['sigset', 'ptr', 'timespec', 'size']),
  sys(129, 'rt_sigqueueinfo', rtSigqueueinfo, ['int', 'signal', 'ptr']),
  sys(297, 'rt_tgsigqueueinfo', rtTgsigqueueinfo, ['int', 'int', 'signal', 'ptr']),
  sys(62, 'kill', kill, ['int', 'signal']),
  sys(200, 'tkill', tkill, ['int', 'signal']),
  sys(234, 'tgkill', tgkill, ['int', 'int', 'signal']),
  sys(127, 'rt_sigpending', rtSigpending, ['ptr', 'size']),
];
