// Readiness: epoll (a host epoll instance over the host fds behind guest fds; the guest's
// event data passes through untouched), eventfd, and poll/ppoll.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { addressOf, hostSyscall } from './host/libc.js';
import { POLLIN } from './fd-io.js';
import { block, int, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
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

/** Waits for events: a host epoll_wait that never blocks, and parking on the epoll fd in between. */
function epollWait(t: Thread, epfd: number, eventsP: number, maxevents: number, timeout: number): SyscallResult {
  const ep = epollFile(t, epfd);
  if (maxevents <= 0 || maxevents > MAX_POLL_FDS) throw new Errno(E.EINVAL);
  t.mm.hostSpans(eventsP, maxevents * EPOLL_EVENT_SIZE, 'write'); // EFAULT first, as Linux checks
  const deadline = timeout < 0 ? undefined : monotonicMs() + timeout;
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

const epollWaitHandler: SyscallHandler = (t, [epfd, eventsP, maxevents, timeout]) => epollWait(t, epfd, eventsP, int(maxevents), int(timeout));

/** epoll_pwait with a mask swaps the signal mask for the wait, as rt_sigsuspend does. */
const epollPwait: SyscallHandler = (t, [epfd, eventsP, maxevents, timeout, sigmaskP, sigsetsize]) => {
  const wait = () => epollWait(t, epfd, eventsP, int(maxevents), int(timeout));
  if (!sigmaskP) return wait();
  if (sigsetsize !== 8) throw new Errno(E.EINVAL);
  return withTemporaryMask(t, new DataView(t.mm.read(sigmaskP, 8).buffer).getBigUint64(0, true), wait);
};

function createEventfd(t: Thread, initval: number, flags: number): number {
  if (flags & ~(EFD.SEMAPHORE | EFD.CLOEXEC | EFD.NONBLOCK)) throw new Errno(E.EINVAL);
  const fd = hostSyscall(HOST.eventfd2, initval >>> 0, EFD.CLOEXEC | EFD.NONBLOCK | (flags & EFD.SEMAPHORE));
  if (fd < 0) return fd;
  return t.process.files.install(new OpenFile(fd, O.RDWR | (flags & EFD.NONBLOCK), 'anon_inode:[eventfd]'), (flags & EFD.CLOEXEC) !== 0);
}

const eventfd: SyscallHandler = (t, [initval]) => createEventfd(t, initval, 0);
const eventfd2: SyscallHandler = (t, [initval, flags]) => createEventfd(t, initval, int(flags));

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
    entries.forEach((e, i) => {
      VIEW.setInt32(i * 8, e.hostFd, true);
      VIEW.setInt16(i * 8 + 4, e.events, true);
      VIEW.setInt16(i * 8 + 6, 0, true);
    });
    const r = hostSyscall(HOST.poll, AREA_ADDRESS, nfds, 0);
    if (r < 0) return r;
    let ready = 0;
    const out = new DataView(new ArrayBuffer(nfds * 8));
    entries.forEach((e, i) => {
      const revents = e.invalid ? POLLNVAL : VIEW.getInt16(i * 8 + 6, true);
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

export const pollSyscalls: SyscallEntry[] = [
  sys(213, 'epoll_create', epollCreate, ['int'], 'fd'),
  sys(291, 'epoll_create1', epollCreate1, ['hex'], 'fd'),
  sys(233, 'epoll_ctl', epollCtl, ['fd', 'int', 'fd', 'ptr']),
  sys(232, 'epoll_wait', epollWaitHandler, ['fd', 'ptr', 'int', 'int']),
  sys(281, 'epoll_pwait', epollPwait, ['fd', 'ptr', 'int', 'int', 'sigset', 'size']),
  sys(284, 'eventfd', eventfd, ['uint'], 'fd'),
  sys(290, 'eventfd2', eventfd2, ['uint', 'hex'], 'fd'),
  sys(7, 'poll', poll, ['ptr', 'uint', 'int']),
  sys(271, 'ppoll', ppoll, ['ptr', 'uint', 'timespec', 'sigset', 'size']),
];
