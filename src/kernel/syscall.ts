// The shape every syscall family file follows: one declarative table of entries (number,
// name, handler, strace argument formats) and one handler signature, after gVisor's
// pkg/sentry/syscalls/linux.
import type { Thread } from './task.js';
import type { FutexWaiter } from './futex-table.js';

/** How strace shows an argument; the formatter lives in strace.ts. */
export type ArgFormat =
  | 'int' | 'uint' | 'hex' | 'ptr' | 'size' | 'off'
  | 'fd' | 'dirfd' | 'path' | 'str'
  | 'inbuf'     // bytes the guest passes in; the next argument is the length
  | 'outbuf'    // bytes the kernel writes; the return value is the length (shown after the call)
  | 'iovec_in' | 'iovec_out' // iovec arrays; the next argument is the count
  | 'oflags' | 'mode' | 'atflags' | 'whence' | 'prot' | 'mapflags' | 'clockid'
  | 'signal' | 'sigaction' | 'sighow' | 'sigset' | 'argv' | 'envp' | 'timespec' | 'stat'
  | 'accessmode' | 'fcntlcmd' | 'ioctlcmd' | 'archprctl' | 'rlimitres' | 'statxmask';

/** How strace shows the return value. */
export type RetFormat = 'int' | 'hex' | 'fd' | 'none';

/** A syscall that cannot finish now: the thread waits for `wait`, then `resume` runs. */
export interface Block {
  kind: 'block';
  wait: Wait;
  resume: () => SyscallResult;
  /** Undoes the wait's registration (a futex queue, a child-wait list) when a signal ends it. */
  cancel?: () => void;
  /** false: signals do not end this wait (vfork's parent); 'resume': a signal runs resume (sigtimedwait). */
  interruptible?: boolean | 'resume';
  /** The result when a signal handler ends the wait and the call is not restarted (default -EINTR). */
  interrupted?: () => number;
  /** false: a handler's SA_RESTART does not restart this wait (a socket call with a timeout: sock_intr_errno). */
  restartable?: boolean;
  /** What the call already moved (bytes, messages): a signal then ends it with that count, never a restart. */
  moved?: () => number;
}

export type Wait =
  | { kind: 'fd'; hostFd: number; events: number; deadline?: number }
  /** Any of several host fds (poll, ppoll). */
  | { kind: 'fds'; fds: Array<{ hostFd: number; events: number }>; deadline?: number }
  | { kind: 'sleep'; deadline: number }
  /** Woken by FutexTable.wake (waiter.woken), or at the deadline. */
  | { kind: 'futex'; waiter: FutexWaiter; deadline?: number }
  /** Woken by SchedulerPort.wake when what it waits for happens (a child's exit, a vfork child's exec). */
  | { kind: 'event'; deadline?: number };

/** The thread leaves the engine without a return value: it exited, or exec replaced its image. */
export interface Leave {
  kind: 'leave';
  why: 'exit' | 'exec' | 'sigreturn';
}

/** A number is the value for RAX: >= 0 success, -errno failure. */
export type SyscallResult = number | Block | Leave;

export type SyscallHandler = (t: Thread, a: readonly number[]) => SyscallResult;

export interface SyscallEntry {
  nr: number;
  name: string;
  handler: SyscallHandler;
  args: readonly ArgFormat[];
  ret: RetFormat;
  /** When vCPU 0 may serve the call while its thread stays on another vCPU (see remote). */
  remote?: RemoteCondition;
}

export type RemoteCondition = (t: Thread, a: readonly number[]) => boolean;

export function sys(nr: number, name: string, handler: SyscallHandler, args: readonly ArgFormat[] = [], ret: RetFormat = 'int'): SyscallEntry {
  return { nr, name, handler, args, ret };
}

/**
 * Marks an entry that vCPU 0 may serve while the calling thread stays on another vCPU, which
 * then never sees its registers (the KVM syscall mailbox, cpu-worker/kvm/syscall-mailbox.ts):
 * the handler reads and writes no register, changes no mapping (which would wait for that
 * vCPU), and, when it returns a Block, has changed nothing yet, so that the thread can make
 * the call again through an exit and wait there. when: a further condition on the arguments.
 */
export const remote = (entry: SyscallEntry, when: RemoteCondition = () => true): SyscallEntry => ({ ...entry, remote: when });

export const block = (wait: Wait, resume: () => SyscallResult, extra: Pick<Block, 'cancel' | 'interruptible' | 'interrupted' | 'restartable' | 'moved'> = {}): Block =>
  ({ kind: 'block', wait, resume, ...extra });
export const leave = (why: Leave['why']): Leave => ({ kind: 'leave', why });

/** Signed 32-bit view of an argument (C int). */
export const int = (v: number) => v | 0;
/** Unsigned 32-bit view of an argument. */
export const uint = (v: number) => v >>> 0;
