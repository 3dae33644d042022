// Signal dispositions and masks. They are recorded exactly; delivery arrives with the
// processes-and-signals work, so nothing is ever delivered yet.
import { E, Errno } from './errno.js';
import { int, leave, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Thread } from './task.js';

const SIGKILL = 9, SIGSTOP = 19, NSIG = 64;
const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));
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

const SIG_DFL = 0, SIG_IGN = 1;
const SIGCHLD = 17, SIGCONT = 18, SIGURG = 23, SIGWINCH = 28;
const STOP_SIGNALS = new Set([SIGSTOP, 20, 21, 22]);
const IGNORED_BY_DEFAULT = new Set([SIGCHLD, SIGCONT, SIGURG, SIGWINCH]);

/**
 * Sends sig to the calling thread's own process. Default actions are carried out at once;
 * a blocked signal, or one with a handler, stays pending: running handlers (signal frames)
 * arrives with the signals work, and until then a warning says so.
 */
function sendToSelf(t: Thread, sig: number): SyscallResult {
  if (sig === 0) return 0;
  const action = t.process.sigactions.get(sig);
  const handler = action?.handler ?? SIG_DFL;
  const bit = 1n << BigInt(sig - 1);
  if (handler === SIG_IGN || (handler === SIG_DFL && IGNORED_BY_DEFAULT.has(sig))) return 0;
  if (t.sigmask & bit) {
    t.pendingSignals |= bit;
    return 0;
  }
  if (handler !== SIG_DFL || STOP_SIGNALS.has(sig)) {
    t.kernel.warnOnce(`sig-handler`, `signal ${sig} left pending: running signal handlers and stopping are not implemented yet`);
    t.pendingSignals |= bit;
    return 0;
  }
  t.process.exitStatus ??= sig;
  return leave('exit');
}

function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) throw new Errno(E.EINVAL);
}

/** kill: the only process a machine runs until fork lands is the caller's own. */
const kill: SyscallHandler = (t, [pidArg, sigArg]) => {
  const pid = int(pidArg), sig = int(sigArg);
  checkSignal(sig);
  const p = t.process;
  const self = pid === p.pid || pid === 0 || pid === -1 || (pid < -1 && -pid === p.pgid);
  if (!self) throw new Errno(E.ESRCH);
  return sendToSelf(t, sig);
};

const tgkill: SyscallHandler = (t, [tgid, tid, sigArg]) => {
  const sig = int(sigArg);
  if (int(tgid) <= 0 || int(tid) <= 0) throw new Errno(E.EINVAL);
  checkSignal(sig);
  if (int(tgid) !== t.process.pid || int(tid) !== t.tid) throw new Errno(E.ESRCH);
  return sendToSelf(t, sig);
};

const tkill: SyscallHandler = (t, [tid, sigArg]) => tgkill(t, [t.process.pid, tid, sigArg, 0, 0, 0]);

const rtSigpending: SyscallHandler = (t, [set, sigsetsize]) => {
  if (sigsetsize > SIGSET_SIZE) throw new Errno(E.EINVAL);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, t.pendingSignals, true);
  t.mm.write(set, bytes.subarray(0, sigsetsize));
  return 0;
};

export const signalSyscalls: SyscallEntry[] = [
  sys(13, 'rt_sigaction', rtSigaction, ['signal', 'sigaction', 'ptr', 'size']),
  sys(14, 'rt_sigprocmask', rtSigprocmask, ['sighow', 'sigset', 'ptr', 'size']),
  sys(131, 'sigaltstack', sigaltstack, ['ptr', 'ptr']),
  sys(62, 'kill', kill, ['int', 'signal']),
  sys(200, 'tkill', tkill, ['int', 'signal']),
  sys(234, 'tgkill', tgkill, ['int', 'int', 'signal']),
  sys(127, 'rt_sigpending', rtSigpending, ['ptr', 'size']),
];
