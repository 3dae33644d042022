// Process and thread identity, exit, exec, and per-thread CPU state (arch_prctl).
import { Reg } from '../cpu-worker/backend.js';
import { E, Errno } from './errno.js';
import { execImage } from './exec/exec.js';
import { block, int, leave, remote, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Process, Thread } from './task.js';

/** A NULL-terminated array of string pointers (argv, envp). */
function readStringArray(t: Thread, addr: number): string[] {
  const out: string[] = [];
  if (!addr) return out;
  for (let i = 0; ; i++) {
    if (i > 0x7fffffff / 8) throw new Errno(E.E2BIG);
    const p = t.mm.readU64(addr + i * 8);
    if (!p) return out;
    out.push(t.mm.readCString(p, 32 * 4096));
  }
}

const execve: SyscallHandler = (t, [pathP, argvP, envpP]) => {
  const path = t.mm.readCString(pathP);
  if (path === '') throw new Errno(E.ENOENT);
  execImage(t, path, readStringArray(t, argvP), readStringArray(t, envpP));
  return leave('exec');
};

const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;

const execveat: SyscallHandler = (t, [dirfd, pathP, argvP, envpP, flagsArg]) => {
  const flags = int(flagsArg);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
  const path = t.mm.readCString(pathP);
  const at = { dirfd: int(dirfd) === AT_FDCWD ? AT_FDCWD : int(dirfd), follow: !(flags & AT_SYMLINK_NOFOLLOW), emptyPath: (flags & AT_EMPTY_PATH) !== 0 };
  execImage(t, path, readStringArray(t, argvP), readStringArray(t, envpP), at);
  return leave('exec');
};

const ARCH = { SET_GS: 0x1001, SET_FS: 0x1002, GET_FS: 0x1003, GET_GS: 0x1004 } as const;
const CANONICAL_END = 0x800000000000;

const archPrctl: SyscallHandler = (t, [code, addr]) => {
  const engine = t.engine!;
  switch (int(code)) {
    case ARCH.SET_FS:
    case ARCH.SET_GS:
      if (addr >= CANONICAL_END) throw new Errno(E.EPERM);
      engine.setReg(int(code) === ARCH.SET_FS ? Reg.FS_BASE : Reg.GS_BASE, addr);
      return 0;
    case ARCH.GET_FS:
    case ARCH.GET_GS:
      t.mm.writeU64(addr, engine.getReg(int(code) === ARCH.GET_FS ? Reg.FS_BASE : Reg.GS_BASE));
      return 0;
    default:
      throw new Errno(E.EINVAL);
  }
};

const setTidAddress: SyscallHandler = (t, [addr]) => {
  t.clearChildTid = addr;
  return t.tid;
};

const ROBUST_LIST_HEAD_SIZE = 24;
const setRobustList: SyscallHandler = (t, [head, len]) => {
  if (len !== ROBUST_LIST_HEAD_SIZE) throw new Errno(E.EINVAL);
  t.robustList = head;
  return 0;
};

const getRobustList: SyscallHandler = (t, [pid, headP, lenP]) => {
  if (int(pid) !== 0 && int(pid) !== t.tid) throw new Errno(E.ESRCH);
  t.mm.writeU64(headP, t.robustList);
  t.mm.writeU64(lenP, ROBUST_LIST_HEAD_SIZE);
  return 0;
};

/** The process a pid argument names (0: the caller), among the processes of this vCPU. */
function processOf(t: Thread, pid: number): Process {
  if (pid === 0) return t.process;
  for (const p of t.kernel.scheduler.processes()) if (p.pid === pid && p.exitStatus === null) return p;
  throw new Errno(E.ESRCH);
}

const getpgid: SyscallHandler = (t, [pid]) => processOf(t, int(pid)).pgid;
const getsid: SyscallHandler = (t, [pid]) => processOf(t, int(pid)).sid;

/** setpgid as Linux checks it: the caller or one of its children, within one session, never a session leader. */
const setpgid: SyscallHandler = (t, [pidArg, pgidArg]) => {
  const pid = int(pidArg), pgid = int(pgidArg);
  if (pgid < 0) throw new Errno(E.EINVAL);
  const target = processOf(t, pid);
  if (target !== t.process) {
    if (target.parent !== t.process) throw new Errno(E.ESRCH);
    if (target.sid !== t.process.sid) throw new Errno(E.EPERM);
    if (target.execed) throw new Errno(E.EACCES);
  }
  if (target.sid === target.pid) throw new Errno(E.EPERM);
  const group = pgid || target.pid;
  if (group !== target.pid && ![...t.kernel.scheduler.processes()].some((p) => p.pgid === group && p.sid === target.sid)) {
    throw new Errno(E.EPERM);
  }
  target.pgid = group;
  return 0;
};

const setsid: SyscallHandler = (t) => {
  const p = t.process;
  if ([...t.kernel.scheduler.processes()].some((q) => q.pgid === p.pid)) throw new Errno(E.EPERM);
  p.sid = p.pgid = p.pid;
  return p.pid;
};

const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
const WAIT4_OPTIONS = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE;
const WAITID_OPTIONS = WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;
const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
const SIGCHLD = 17;

/** Which children a wait addresses, as Linux's wait4 pid argument says. */
function selects(parent: Process, child: Process, pid: number, options: number): boolean {
  const cloneChild = child.exitSignal !== SIGCHLD;
  if (!(options & __WALL) && cloneChild !== ((options & __WCLONE) !== 0)) return false;
  if (pid > 0) return child.pid === pid;
  if (pid === -1) return true;
  return child.pgid === (pid === 0 ? parent.pgid : -pid);
}

/**
 * The common part of wait4 and waitid: reap (or, with WNOWAIT, only look at) an ended child;
 * ECHILD without a matching child; 0 with WNOHANG; otherwise park until a child ends.
 */
function waitForChild(t: Thread, pid: number, options: number, report: (child: Process, status: number) => number): SyscallResult {
  const p = t.process;
  const attempt = (): SyscallResult => {
    const matching = [...p.children].filter((c) => selects(p, c, pid, options));
    if (matching.length === 0) return -E.ECHILD;
    const ended = options & WEXITED ? matching.find((c) => c.exitStatus !== null && c.threads.size === 0) : undefined;
    if (ended) {
      const r = report(ended, ended.exitStatus!);
      if (!(options & WNOWAIT)) p.reap(ended);
      return r;
    }
    // Job-control changes, reported once each: stopped as (sig << 8) | 0x7f, continued as 0xffff.
    const changed = matching.find((c) => c.jobReport && (c.jobReport.kind === 'stopped' ? options & WUNTRACED : options & WCONTINUED));
    if (changed) {
      const job = changed.jobReport!;
      const r = report(changed, job.kind === 'stopped' ? (job.sig << 8) | 0x7f : 0xffff);
      if (!(options & WNOWAIT)) changed.jobReport = null;
      return r;
    }
    if (options & WNOHANG) return 0;
    p.childWaiters.add(t);
    return block({ kind: 'event' }, () => {
      p.childWaiters.delete(t);
      return attempt();
    }, { cancel: () => p.childWaiters.delete(t) });
  };
  return attempt();
}

const wait4: SyscallHandler = (t, [pidArg, statusP, optionsArg, rusageP]) => {
  const options = int(optionsArg);
  if (options & ~WAIT4_OPTIONS) throw new Errno(E.EINVAL);
  return waitForChild(t, int(pidArg), options | WEXITED, (child, status) => {
    if (statusP) t.mm.writeU32(statusP, status);
    if (rusageP) t.mm.write(rusageP, new Uint8Array(144));
    return child.pid;
  });
};

const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;
const SIGCONT = 18;

const waitid: SyscallHandler = (t, [idtype, id, infoP, optionsArg, rusageP]) => {
  const options = int(optionsArg), type = int(idtype);
  if (options & ~WAITID_OPTIONS || !(options & (WEXITED | WUNTRACED | WCONTINUED)) || type < P_ALL || type > P_PIDFD) {
    throw new Errno(E.EINVAL);
  }
  if (type === P_PIDFD) throw new Errno(E.EINVAL); // pidfds are not implemented
  const pid = type === P_ALL ? -1 : type === P_PID ? int(id) : -int(id);
  if (type === P_PGID && int(id) === 0) return waitid(t, [P_PGID, t.process.pgid, infoP, optionsArg, rusageP, 0]);
  let reported = false;
  const r = waitForChild(t, pid, options, (child, status) => {
    reported = true;
    const signal = status & 0x7f;
    const info = new DataView(new ArrayBuffer(128));
    const [code, value] = status === 0xffff ? [CLD_CONTINUED, SIGCONT]
      : signal === 0x7f ? [CLD_STOPPED, (status >> 8) & 0xff]
      : signal === 0 ? [CLD_EXITED, (status >> 8) & 0xff]
      : [status & 0x80 ? CLD_DUMPED : CLD_KILLED, signal];
    info.setInt32(0, SIGCHLD, true);
    info.setInt32(8, code, true);
    info.setInt32(16, child.pid, true);
    info.setInt32(24, value, true);
    if (infoP) t.mm.write(infoP, new Uint8Array(info.buffer));
    if (rusageP) t.mm.write(rusageP, new Uint8Array(144));
    return 0;
  });
  // With WNOHANG and nothing ended, Linux zeroes si_pid (and si_signo) before returning 0.
  if (r === 0 && !reported && infoP && options & WNOHANG) t.mm.write(infoP, new Uint8Array(128));
  return r;
};

const PR = {
  SET_PDEATHSIG: 1, GET_PDEATHSIG: 2, GET_DUMPABLE: 3, SET_DUMPABLE: 4, SET_NAME: 15, GET_NAME: 16,
  GET_TIMERSLACK: 30, SET_TIMERSLACK: 29, SET_NO_NEW_PRIVS: 38, GET_NO_NEW_PRIVS: 39,
} as const;
const NSIG = 64;
/** Linux's default timer slack: 50 us. */
const DEFAULT_TIMER_SLACK_NS = 50_000;

const prctl: SyscallHandler = (t, [option, arg2, arg3, arg4, arg5]) => {
  const p = t.process;
  switch (int(option)) {
    case PR.SET_NAME: {
      const bytes = t.mm.read(arg2, 16);
      const nul = bytes.indexOf(0);
      t.name = Buffer.from(bytes.subarray(0, Math.min(nul < 0 ? 16 : nul, 15))).toString('latin1');
      return 0;
    }
    case PR.GET_NAME: {
      const out = new Uint8Array(16);
      out.set(Buffer.from(t.name, 'latin1').subarray(0, 15));
      t.mm.write(arg2, out);
      return 0;
    }
    case PR.SET_PDEATHSIG:
      if (int(arg2) < 0 || int(arg2) > NSIG) throw new Errno(E.EINVAL);
      t.parentDeathSignal = int(arg2);
      return 0;
    case PR.GET_PDEATHSIG:
      t.mm.writeU32(arg2, t.parentDeathSignal);
      return 0;
    case PR.GET_DUMPABLE:
      return p.dumpable;
    case PR.SET_DUMPABLE:
      if (arg2 !== 0 && arg2 !== 1) throw new Errno(E.EINVAL);
      p.dumpable = arg2;
      return 0;
    case PR.SET_NO_NEW_PRIVS:
      if (arg2 !== 1 || arg3 || arg4 || arg5) throw new Errno(E.EINVAL);
      t.noNewPrivs = true;
      return 0;
    case PR.GET_NO_NEW_PRIVS:
      if (arg2 || arg3 || arg4 || arg5) throw new Errno(E.EINVAL);
      return t.noNewPrivs ? 1 : 0;
    case PR.GET_TIMERSLACK:
      return t.timerSlackNs;
    case PR.SET_TIMERSLACK:
      t.timerSlackNs = arg2 === 0 ? DEFAULT_TIMER_SLACK_NS : arg2;
      return 0;
    default:
      throw new Errno(E.EINVAL);
  }
};

export const procSyscalls: SyscallEntry[] = [
  remote(sys(39, 'getpid', (t) => t.process.pid)),
  remote(sys(110, 'getppid', (t) => t.process.ppid)),
  remote(sys(186, 'gettid', (t) => t.tid)),
  remote(sys(111, 'getpgrp', (t) => t.process.pgid)),
  sys(121, 'getpgid', getpgid, ['int']),
  sys(109, 'setpgid', setpgid, ['int', 'int']),
  sys(124, 'getsid', getsid, ['int']),
  sys(112, 'setsid', setsid),
  sys(59, 'execve', execve, ['path', 'argv', 'envp']),
  sys(322, 'execveat', execveat, ['dirfd', 'path', 'argv', 'envp', 'atflags']),
  sys(158, 'arch_prctl', archPrctl, ['archprctl', 'hex']),
  sys(218, 'set_tid_address', setTidAddress, ['ptr']),
  sys(273, 'set_robust_list', setRobustList, ['ptr', 'size']),
  sys(274, 'get_robust_list', getRobustList, ['int', 'ptr', 'ptr']),
  sys(61, 'wait4', wait4, ['int', 'ptr', 'hex', 'ptr']),
  sys(247, 'waitid', waitid, ['int', 'int', 'ptr', 'hex', 'ptr']),
  sys(157, 'prctl', prctl, ['int', 'hex', 'hex', 'hex', 'hex']),
];
