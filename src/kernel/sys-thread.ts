// clone, clone3, fork and vfork (new threads of the caller's process, or new processes),
// exit and exit_group, and what a dying thread does for its joiners and its robust futexes.
import { Reg } from '../cpu-worker/backend.js';
import { E, Errno } from './errno.js';
import { futexKey } from './sys-futex.js';
import { block, leave, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import { Process, Thread } from './task.js';

const CLONE = {
  VM: 0x100, FS: 0x200, FILES: 0x400, SIGHAND: 0x800, PIDFD: 0x1000, PTRACE: 0x2000, VFORK: 0x4000,
  PARENT: 0x8000, THREAD: 0x10000, NEWNS: 0x20000, SYSVSEM: 0x40000, SETTLS: 0x80000,
  PARENT_SETTID: 0x100000, CHILD_CLEARTID: 0x200000, DETACHED: 0x400000, UNTRACED: 0x800000,
  CHILD_SETTID: 0x1000000, NEWUSER: 0x10000000, NEWPID: 0x20000000,
} as const;
const CSIGNAL = 0xff;
/** What glibc's pthread_create passes (CLONE_SYSVSEM and the tid flags are optional extras). */
const THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD;
const THREAD_OPTIONAL = CLONE.SYSVSEM | CLONE.SETTLS | CLONE.PARENT_SETTID | CLONE.CHILD_CLEARTID | CLONE.CHILD_SETTID | CLONE.DETACHED;

interface CloneArgs {
  flags: number;
  exitSignal: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
}

/** Linux's own consistency checks (kernel/fork.c copy_process). */
function checkFlags(a: CloneArgs): void {
  const f = a.flags;
  if ((f & (CLONE.NEWNS | CLONE.FS)) === (CLONE.NEWNS | CLONE.FS)) throw new Errno(E.EINVAL);
  if ((f & (CLONE.NEWUSER | CLONE.FS)) === (CLONE.NEWUSER | CLONE.FS)) throw new Errno(E.EINVAL);
  if (f & CLONE.THREAD && !(f & CLONE.SIGHAND)) throw new Errno(E.EINVAL);
  if (f & CLONE.SIGHAND && !(f & CLONE.VM)) throw new Errno(E.EINVAL);
  if (f & CLONE.PIDFD && f & CLONE.DETACHED) throw new Errno(E.EINVAL);
}

/** Flags a new process may carry (fork, vfork, posix_spawn's clone3, -d's clone). */
const PROCESS_FLAGS = CLONE.VM | CLONE.VFORK | CLONE.SETTLS | CLONE.PARENT_SETTID | CLONE.CHILD_CLEARTID | CLONE.CHILD_SETTID | CLONE.SYSVSEM | CLONE.DETACHED;

function cloneAny(t: Thread, a: CloneArgs): SyscallResult {
  checkFlags(a);
  if (a.flags & CLONE.THREAD) {
    if ((a.flags & THREAD_FLAGS) !== THREAD_FLAGS || a.flags & ~(THREAD_FLAGS | THREAD_OPTIONAL)) return unsupported(t, a.flags);
    return cloneThread(t, a);
  }
  if (a.flags & ~PROCESS_FLAGS) return unsupported(t, a.flags);
  return cloneProcess(t, a);
}

/** Sharing combinations Linux allows but Starling does not model yet (e.g. CLONE_FILES without a thread). */
function unsupported(t: Thread, flags: number): number {
  t.kernel.warnOnce(`clone:${flags.toString(16)}`, `clone with flags 0x${flags.toString(16)} is not implemented yet: returning ENOSYS`);
  return -E.ENOSYS;
}

/** A new thread of t's, starting from a copy of t's registers just after the syscall. */
function spawnThread(t: Thread, process: Process, tid: number, a: CloneArgs): Thread {
  const engine = t.engine!;
  const child = new Thread(tid, process, t.name);
  child.policy = t.policy;
  child.rtPriority = t.rtPriority;
  child.nice = t.nice;
  child.affinity = t.affinity;
  child.sigmask = t.sigmask;
  if (a.flags & CLONE.CHILD_CLEARTID) child.clearChildTid = a.childTid;
  if (a.flags & CLONE.CHILD_SETTID) process.mm.writeU32(a.childTid, tid);
  if (a.flags & CLONE.PARENT_SETTID) t.mm.writeU32(a.parentTid, tid);
  // Inside the syscall hook the engine holds the caller's registers with RIP at the syscall
  // instruction: the child starts from a copy of them, just after it.
  child.context = engine.newContext();
  engine.saveContext(child.context);
  child.startFixups = {
    rip: engine.getReg(Reg.RIP) + 2,
    rsp: a.stack || engine.getReg(Reg.RSP),
    fsBase: a.flags & CLONE.SETTLS ? a.tls : null,
  };
  process.threads.add(child);
  return child;
}

function cloneThread(t: Thread, a: CloneArgs): number {
  const tid = t.kernel.allocateId();
  t.kernel.scheduler.add(spawnThread(t, t.process, tid, a));
  return tid;
}

/**
 * A new process: a copy of the caller's memory (or, with CLONE_VM, the same memory, as vfork
 * and posix_spawn use it until the child execs), descriptors, working directory, signal
 * dispositions and limits. With CLONE_VFORK the caller waits until the child execs or exits.
 */
function cloneProcess(t: Thread, a: CloneArgs): SyscallResult {
  const k = t.kernel, p = t.process;
  if (!k.reserveProcess()) return -E.EAGAIN;
  const pid = k.allocateId();
  let mm = p.mm;
  if (a.flags & CLONE.VM) mm.users++;
  else mm = mm.fork();
  const child = new Process(k, pid, p.pid, mm, p.files.fork(), { ...p.fs });
  child.parent = p;
  child.pgid = p.pgid;
  child.sid = p.sid;
  child.exitSignal = a.exitSignal;
  child.exePath = p.exePath;
  child.cmdline = p.cmdline;
  child.environ = p.environ;
  for (const [sig, action] of p.sigactions) child.sigactions.set(sig, { ...action });
  for (const [res, limit] of p.rlimits) child.rlimits.set(res, { ...limit });
  p.children.add(child);
  const thread = spawnThread(t, child, pid, a);
  thread.rseq = t.rseq;
  thread.robustList = t.robustList;
  k.scheduler.add(thread);
  if (!(a.flags & CLONE.VFORK)) return pid;
  child.vforkParent = t;
  return block({ kind: 'event' }, () => pid, { interruptible: false });
}

const clone: SyscallHandler = (t, [flags, stack, parentTid, childTid, tls]) =>
  cloneAny(t, { flags: flags & ~CSIGNAL, exitSignal: flags & CSIGNAL, stack, parentTid, childTid, tls });

const SIGCHLD = 17;
const fork: SyscallHandler = (t) => cloneAny(t, { flags: 0, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 });
const vfork: SyscallHandler = (t) =>
  cloneAny(t, { flags: CLONE.VM | CLONE.VFORK, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 });

const CLONE_ARGS_SIZE_VER0 = 64;
const PAGE = 4096;

const clone3: SyscallHandler = (t, [argsP, size]) => {
  if (size < CLONE_ARGS_SIZE_VER0) throw new Errno(E.EINVAL);
  if (size > PAGE) throw new Errno(E.E2BIG);
  const raw = t.mm.read(argsP, size);
  for (let i = 88; i < size; i++) if (raw[i]) throw new Errno(E.E2BIG);
  const dv = new DataView(raw.buffer);
  const u64 = (o: number) => (o + 8 <= size ? Number(dv.getBigUint64(o, true)) : 0);
  const flags = u64(0), exitSignal = u64(32), stack = u64(40), stackSize = u64(48);
  if (exitSignal & ~CSIGNAL || (flags & (CLONE.THREAD | CLONE.PARENT) && exitSignal)) throw new Errno(E.EINVAL);
  if ((stack === 0) !== (stackSize === 0)) throw new Errno(E.EINVAL);
  if (u64(64) || u64(72)) throw new Errno(E.EINVAL); // set_tid needs PID namespaces
  return cloneAny(t, { flags, exitSignal, stack: stack ? stack + stackSize : 0, parentTid: u64(24), childTid: u64(16), tls: u64(56) });
};

const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const ROBUST_LIST_LIMIT = 2048;

/**
 * What Linux does for a dying thread (mm_release, exit_robust_list): clear the tid word and
 * wake its joiner, and mark the robust mutexes it holds as owner-died, waking one waiter each.
 */
export function releaseThread(t: Thread): void {
  const futexes = t.kernel.futexes;
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
    }
  };
  if (t.robustList) guard(() => walkRobustList(t));
  if (t.clearChildTid) {
    guard(() => {
      t.mm.writeU32(t.clearChildTid, 0);
      futexes.wake(futexKey(t, t.clearChildTid, false), 1);
    });
  }
}

function walkRobustList(t: Thread): void {
  const head = t.robustList;
  const offset = t.mm.readI64(head + 8);
  const pending = t.mm.readU64(head + 16);
  const handle = (entry: number) => {
    const word = entry + offset;
    const value = t.mm.readU32(word);
    if ((value & FUTEX_TID_MASK) !== t.tid) return;
    t.mm.writeU32(word, (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED);
    if (value & FUTEX_WAITERS) t.kernel.futexes.wake(futexKey(t, word, false), 1);
  };
  for (let entry = t.mm.readU64(head), n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
    const next = t.mm.readU64(entry);
    if (entry !== pending) handle(entry);
    entry = next;
  }
  if (pending) handle(pending);
}

/** exit ends the calling thread; the last thread's exit ends the process with its status. */
const exit: SyscallHandler = (t, [status]) => {
  t.exitCode = status & 0xff;
  return leave('exit');
};

/** exit_group ends every thread of the process. */
const exitGroup: SyscallHandler = (t, [status]) => {
  t.process.exitStatus ??= (status & 0xff) << 8;
  t.exitCode = status & 0xff;
  return leave('exit');
};

export const threadSyscalls: SyscallEntry[] = [
  sys(56, 'clone', clone, ['hex', 'ptr', 'ptr', 'ptr', 'ptr']),
  sys(435, 'clone3', clone3, ['ptr', 'size']),
  sys(57, 'fork', fork),
  sys(58, 'vfork', vfork),
  sys(60, 'exit', exit, ['int'], 'none'),
  sys(231, 'exit_group', exitGroup, ['int'], 'none'),
];

