// Readiness: epoll (a host epoll instance over the host fds behind guest fds; the guest's
// event data passes through untouched), eventfd, and poll/ppoll.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { addressOf, hostSyscall } from './host/libc.js';
import { POLLIN } from './fd-io.js';
import { block, int, remote, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import { monotonicMs, readTimespec } from './sys-time.js';
import type { Thread } from './task.js';
import { withTemporaryMask } from './signals.js';

const HOST = { poll: 7, epoll_wait: 232, epoll_ctl: 233, epoll_create1: 291, eventfd2: 290 } as const;
const EPOLL_CLOEXEC = O.CLOEXEC;
const EPOLL_EVENT_SIZE = 12;
const EFD = { SEMAPHORE: 1, CLOEXEC: O.CLOEXEC, NONBLOCK: O.NONBLOCK } as const;
const POLLNVAL = 0x20;
const MAX_POLL_FDS = 4096;

/** A scratch area of this worker for epoll events and pollfd arrays, at a stable host address. */
const AREA = new Uint8Array(new SharedArrayBuffer(16 * MAX_POLL_FDS));
const AREA_ADDRESS = addressOf(AREA.buffer as SharedArrayBuffer);
const VIEW = new DataView(AREA.buffer);

function epollFile(t: Thread, fd: number): OpenFile {
  const f = t.process.files.get(fd);
  if (!f.isEpoll) throw new Errno(E.EINVAL);
  return f;
}

function createEpoll(t: Thread, flags: number): number {
  if (flags & ~EPOLL_CLOEXEC) throw new Errno(E.EINVAL);
  const fd = hostSyscall(HOST.epoll_create1, EPOLL_CLOEXEC);
  if (fd < 0) return fd;
  const file = new OpenFile(fd, O.RDWR, 'anon_inode:[eventpoll]');
  file.isEpoll = true;
  return t.process.files.install(file, (flags & EPOLL_CLOEXEC) !== 0);
}

const epollCreate: SyscallHandler = (t, [size]) => {
  if (int(size) <= 0) throw new Errno(E.EINVAL);
  return createEpoll(t, 0);
};
const epollCreate1: SyscallHandler = (t, [flags]) => createEpoll(t, int(flags));

const EPOLL_CTL_DEL = 2;

const epollCtl: SyscallHandler = (t, [epfd, op, fd, eventP]) => {
  const ep = epollFile(t, epfd);
  const target = t.process.files.get(fd);
  if (epfd === fd) throw new Errno(E.EINVAL);
  if (int(op) !== EPOLL_CTL_DEL) AREA.set(t.mm.read(eventP, EPOLL_EVENT_SIZE));
  return hostSyscall(HOST.epoll_ctl, ep.hostFd, int(op), target.hostFd, AREA_ADDRESS);
};

/** Waits for events until deadline (undefined: for ever): a host epoll_wait that never blocks, and parking on the epoll fd in between. */
function epollWait(t: Thread, epfd: number, eventsP: number, maxevents: number, deadline: number | undefined): SyscallResult {
  const ep = epollFile(t, epfd);
  if (maxevents <= 0 || maxevents > MAX_POLL_FDS) throw new Errno(E.EINVAL);
  t.mm.hostSpans(eventsP, maxevents * EPOLL_EVENT_SIZE, 'write'); // EFAULT first, as Linux checks
  const attempt = (): SyscallResult => {
    const n = hostSyscall(HOST.epoll_wait, ep.hostFd, AREA_ADDRESS, maxevents, 0);
    if (n !== 0) {
      if (n > 0) t.mm.write(eventsP, AREA.slice(0, n * EPOLL_EVENT_SIZE));
      return n;
    }
    if (deadline !== undefined && monotonicMs() >= deadline) return 0;
    return block({ kind: 'fd', hostFd: ep.hostFd, events: POLLIN, deadline }, attempt);
  };
  return attempt();
}

/** The deadline of a timeout in milliseconds (negative: none). */
const msDeadline = (timeout: number) => (timeout < 0 ? undefined : monotonicMs() + timeout);

const epollWaitHandler: SyscallHandler = (t, [epfd, eventsP, maxevents, timeout]) => epollWait(t, epfd, eventsP, int(maxevents), msDeadline(int(timeout)));

/** epoll_pwait and epoll_pwait2 with a mask swap the signal mask for the wait, as rt_sigsuspend does. */
function withWaitMask(t: Thread, sigmaskP: number, sigsetsize: number, wait: () => SyscallResult): SyscallResult {
  if (!sigmaskP) return wait();
  if (sigsetsize !== 8) throw new Errno(E.EINVAL);
  return withTemporaryMask(t, new DataView(t.mm.read(sigmaskP, 8).buffer).getBigUint64(0, true), wait);
}

const epollPwait: SyscallHandler = (t, [epfd, eventsP, maxevents, timeout, sigmaskP, sigsetsize]) => {
  const deadline = msDeadline(int(timeout));
  return withWaitMask(t, sigmaskP, sigsetsize, () => epollWait(t, epfd, eventsP, int(maxevents), deadline));
};

/** epoll_pwait2: the timeout is a timespec (NULL: wait for ever). */
const epollPwait2: SyscallHandler = (t, [epfd, eventsP, maxevents, timeoutP, sigmaskP, sigsetsize]) => {
  let deadline: number | undefined;
  if (timeoutP) {
    const { sec, nsec } = readTimespec(t, timeoutP);
    deadline = monotonicMs() + sec * 1e3 + nsec / 1e6;
  }
  return withWaitMask(t, sigmaskP, sigsetsize, () => epollWait(t, epfd, eventsP, int(maxevents), deadline));
};

function createEventfd(t: Thread, initval: number, flags: number): number {
  if (flags & ~(EFD.SEMAPHORE | EFD.CLOEXEC | EFD.NONBLOCK)) throw new Errno(E.EINVAL);
  const fd = hostSyscall(HOST.eventfd2, initval >>> 0, EFD.CLOEXEC | EFD.NONBLOCK | (flags & EFD.SEMAPHORE));
  if (fd < 0) return fd;
  return t.process.files.install(new OpenFile(fd, O.RDWR | (flags & EFD.NONBLOCK), 'anon_inode:[eventfd]'), (flags & EFD.CLOEXEC) !== 0);
}

const eventfd: SyscallHandler = (t, [initval]) => createEventfd(t, initval, 0);
const eventfd2: SyscallHandler = (t, [initval, flags]) => createEventfd(t, initval, int(flags));

/** One host poll that never blocks: the revents of each entry, or -errno. */
function hostPollOnce(entries: ReadonlyArray<{ hostFd: number; events: number }>): number[] | number {
  entries.forEach((e, i) => {
    VIEW.setInt32(i * 8, e.hostFd, true);
    VIEW.setInt16(i * 8 + 4, e.events, true);
    VIEW.setInt16(i * 8 + 6, 0, true);
  });
  const r = hostSyscall(HOST.poll, AREA_ADDRESS, entries.length, 0);
  return r < 0 ? r : entries.map((_, i) => VIEW.getInt16(i * 8 + 6, true));
}

/** poll over guest fds: one non-blocking host poll per attempt, parking on all the fds in between. */
function pollFds(t: Thread, fdsP: number, nfds: number, deadline: number | undefined): SyscallResult {
  if (nfds > MAX_POLL_FDS) throw new Errno(E.EINVAL);
  const guest = new DataView(t.mm.read(fdsP, nfds * 8).buffer);
  const entries = Array.from({ length: nfds }, (_, i) => {
    const fd = guest.getInt32(i * 8, true), events = guest.getInt16(i * 8 + 4, true);
    const file = fd >= 0 && t.process.files.has(fd) ? t.process.files.get(fd) : null;
    return { fd, events, hostFd: file ? file.hostFd : -1, invalid: fd >= 0 && !file };
  });
  const attempt = (): SyscallResult => {
    const polled = hostPollOnce(entries);
    if (typeof polled === 'number') return polled;
    let ready = 0;
    const out = new DataView(new ArrayBuffer(nfds * 8));
    entries.forEach((e, i) => {
      const revents = e.invalid ? POLLNVAL : polled[i];
      out.setInt32(i * 8, e.fd, true);
      out.setInt16(i * 8 + 4, e.events, true);
      out.setInt16(i * 8 + 6, revents, true);
      if (revents) ready++;
    });
    if (ready > 0 || (deadline !== undefined && monotonicMs() >= deadline)) {
      t.mm.write(fdsP, new Uint8Array(out.buffer));
      return ready;
    }
    const fds = entries.filter((e) => e.hostFd >= 0).map((e) => ({ hostFd: e.hostFd, events: e.events }));
    return block({ kind: 'fds', fds, deadline }, attempt);
  };
  return attempt();
}

const poll: SyscallHandler = (t, [fdsP, nfds, timeout]) =>
  pollFds(t, fdsP, nfds >>> 0, int(timeout) < 0 ? undefined : monotonicMs() + int(timeout));

const ppoll: SyscallHandler = (t, [fdsP, nfds, tsP, sigmaskP, sigsetsize]) => {
  if (sigmaskP && sigsetsize !== 8) throw new Errno(E.EINVAL);
  let deadline: number | undefined;
  if (tsP) {
    const { sec, nsec } = readTimespec(t, tsP);
    deadline = monotonicMs() + sec * 1e3 + nsec / 1e6;
  }
  const wait = () => pollFds(t, fdsP, nfds >>> 0, deadline);
  if (!sigmaskP) return wait();
  return withTemporaryMask(t, new DataView(t.mm.read(sigmaskP, 8).buffer).getBigUint64(0, true), wait);
};

const POLLIN_SET = 0x1 | 0x40 | 0x8 | 0x10, POLLOUT_SET = 0x4 | 0x100 | 0x8, POLLEX_SET = 0x2;
const FD_SETSIZE = 1024;

/**
 * select and pselect6 as poll: the fd_sets become a pollfd list, and the ready fds go back
 * into the sets. Linux also writes the time left into select's timeval.
 */
function selectFds(t: Thread, nfds: number, sets: [number, number, number], deadline: number | undefined, writeLeft: (() => void) | null): SyscallResult {
  if (nfds < 0 || nfds > FD_SETSIZE) throw new Errno(E.EINVAL);
  const bytes = Math.ceil(nfds / 64) * 8;
  const read = sets.map((p) => (p ? t.mm.read(p, bytes) : null));
  const entries: Array<{ fd: number; events: number; hostFd: number }> = [];
  for (let fd = 0; fd < nfds; fd++) {
    const isSet = (i: number) => read[i] !== null && (read[i]![fd >> 3] & (1 << (fd & 7))) !== 0;
    const events = (isSet(0) ? 0x1 : 0) | (isSet(1) ? 0x4 : 0) | (isSet(2) ? POLLEX_SET : 0);
    if (!events) continue;
    entries.push({ fd, events, hostFd: t.process.files.get(fd).hostFd });
  }
  const attempt = (): SyscallResult => {
    const polled = hostPollOnce(entries);
    if (typeof polled === 'number') return polled;
    const out = sets.map(() => new Uint8Array(bytes));
    let ready = 0;
    entries.forEach((e, i) => {
      const revents = polled[i];
      const mark = (k: number) => {
        out[k][e.fd >> 3] |= 1 << (e.fd & 7);
        ready++;
      };
      if (read[0] && e.events & 0x1 && revents & POLLIN_SET) mark(0);
      if (read[1] && e.events & 0x4 && revents & POLLOUT_SET) mark(1);
      if (read[2] && e.events & POLLEX_SET && revents & POLLEX_SET) mark(2);
    });
    if (ready > 0 || (deadline !== undefined && monotonicMs() >= deadline)) {
      sets.forEach((p, k) => p && t.mm.write(p, out[k]));
      writeLeft?.();
      return ready;
    }
    return block({ kind: 'fds', fds: entries.map((e) => ({ hostFd: e.hostFd, events: e.events })), deadline }, attempt);
  };
  return attempt();
}

const select: SyscallHandler = (t, [nfds, readP, writeP, exceptP, tvP]) => {
  let deadline: number | undefined;
  if (tvP) {
    const tv = new DataView(t.mm.read(tvP, 16).buffer);
    const sec = Number(tv.getBigInt64(0, true)), usec = Number(tv.getBigInt64(8, true));
    if (sec < 0 || usec < 0) throw new Errno(E.EINVAL);
    deadline = monotonicMs() + sec * 1e3 + usec / 1e3;
  }
  const writeLeft = tvP ? () => {
    const left = Math.max(0, deadline! - monotonicMs());
    const tv = new DataView(new ArrayBuffer(16));
    tv.setBigInt64(0, BigInt(Math.floor(left / 1e3)), true);
    tv.setBigInt64(8, BigInt(Math.floor((left % 1e3) * 1e3)), true);
    t.mm.write(tvP, new Uint8Array(tv.buffer));
  } : null;
  return selectFds(t, int(nfds), [readP, writeP, exceptP], deadline, writeLeft);
};

const pselect6: SyscallHandler = (t, [nfds, readP, writeP, exceptP, tsP, sigP]) => {
  let deadline: number | undefined;
  if (tsP) {
    const { sec, nsec } = readTimespec(t, tsP);
    deadline = monotonicMs() + sec * 1e3 + nsec / 1e6;
  }
  const wait = () => selectFds(t, int(nfds), [readP, writeP, exceptP], deadline, null);
  // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
  const maskP = sigP ? t.mm.readU64(sigP) : 0;
  if (!maskP) return wait();
  if (t.mm.readU64(sigP + 8) !== 8) throw new Errno(E.EINVAL);
  return withTemporaryMask(t, new DataView(t.mm.read(maskP, 8).buffer).getBigUint64(0, true), wait);
};

const TFD = { CLOEXEC: O.CLOEXEC, NONBLOCK: O.NONBLOCK, TIMER_ABSTIME: 1, TIMER_CANCEL_ON_SET: 2 } as const;
const HOST_TIMERFD = { create: 283, settime: 286, gettime: 287 } as const;
const ITIMERSPEC_SIZE = 32;

/** timerfd: a host timerfd; the guest's O_NONBLOCK decides whether read waits for an expiry. */
const timerfdCreate: SyscallHandler = (t, [clockid, flagsArg]) => {
  const flags = int(flagsArg);
  if (flags & ~(TFD.CLOEXEC | TFD.NONBLOCK)) throw new Errno(E.EINVAL);
  const fd = hostSyscall(HOST_TIMERFD.create, int(clockid), TFD.CLOEXEC | TFD.NONBLOCK);
  if (fd < 0) return fd;
  return t.process.files.install(new OpenFile(fd, O.RDWR | (flags & TFD.NONBLOCK), 'anon_inode:[timerfd]'), (flags & TFD.CLOEXEC) !== 0);
};

const timerfdSettime: SyscallHandler = (t, [fd, flags, newP, oldP]) => {
  const file = t.process.files.get(fd);
  AREA.set(t.mm.read(newP, ITIMERSPEC_SIZE));
  const r = hostSyscall(HOST_TIMERFD.settime, file.hostFd, int(flags), AREA_ADDRESS, oldP ? AREA_ADDRESS + ITIMERSPEC_SIZE : 0);
  if (r >= 0 && oldP) t.mm.write(oldP, AREA.slice(ITIMERSPEC_SIZE, 2 * ITIMERSPEC_SIZE));
  return r;
};

const timerfdGettime: SyscallHandler = (t, [fd, curP]) => {
  const file = t.process.files.get(fd);
  const r = hostSyscall(HOST_TIMERFD.gettime, file.hostFd, AREA_ADDRESS);
  if (r >= 0) t.mm.write(curP, AREA.slice(0, ITIMERSPEC_SIZE));
  return r;
};

export const pollSyscalls: SyscallEntry[] = [
  sys(23, 'select', select, ['int', 'ptr', 'ptr', 'ptr', 'ptr']),
  sys(270, 'pselect6', pselect6, ['int', 'ptr', 'ptr', 'ptr', 'timespec', 'ptr']),
  sys(283, 'timerfd_create', timerfdCreate, ['clockid', 'hex'], 'fd'),
  sys(286, 'timerfd_settime', timerfdSettime, ['fd', 'hex', 'ptr', 'ptr']),
  sys(287, 'timerfd_gettime', timerfdGettime, ['fd', 'ptr']),
  sys(213, 'epoll_create', epollCreate, ['int'], 'fd'),
  sys(291, 'epoll_create1', epollCreate1, ['hex'], 'fd'),
  remote(sys(233, 'epoll_ctl', epollCtl, ['fd', 'int', 'fd', 'ptr'])),
  remote(sys(232, 'epoll_wait', epollWaitHandler, ['fd', 'ptr', 'int', 'int'])),
  // With a mask the wait swaps the signal mask first.
  remote(sys(281, 'epoll_pwait', epollPwait, ['fd', 'ptr', 'int', 'int', 'sigset', 'size']), (_t, a) => a[4] === 0),
  sys(441, 'epoll_pwait2', epollPwait2, ['fd', 'ptr', 'int', 'timespec', 'sigset', 'size']),
  sys(284, 'eventfd', eventfd, ['uint'], 'fd'),
  sys(290, 'eventfd2', eventfd2, ['uint', 'hex'], 'fd'),
  sys(7, 'poll', poll, ['ptr', 'uint', 'int']),
  sys(271, 'ppoll', ppoll, ['ptr', 'uint', 'timespec', 'sigset', 'size']),
];
