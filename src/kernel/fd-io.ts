// Moving bytes between guest memory and host fds without ever blocking the vCPU's thread:
// regular files and directories are done at once; anything else (pipes, ttys, sockets,
// devices) is polled first, and when it is not ready the guest gets EAGAIN (O_NONBLOCK)
// or the thread waits for the fd and retries.
import { Prot } from '../cpu-worker/backend.js';
import { E, Errno } from './errno.js';
import { O, type OpenFile } from './files.js';
import { addressOf, hostSyscall, HostNr } from './host/libc.js';
import { block, type SyscallResult } from './syscall.js';
import type { Thread } from './task.js';
import { fdMode, HostNrExtra, S } from './vfs/host.js';
import { monotonicMs } from './sys-time.js';

export const POLLIN = 1, POLLOUT = 4;
const POLLERR = 8;
/** Linux's MAX_RW_COUNT: one call moves at most this many bytes. */
export const MAX_RW_COUNT = 0x7ffff000;
const UIO_MAXIOV = 1024;
const PIPE_BUF = 4096;
const FIONREAD = 0x541b, F_GETPIPE_SZ = 1032;
const MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
const HOST_GETSOCKOPT = 55, SOL_SOCKET = 1, SO_ERROR = 4, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21;

/** pollfd, an int for ioctls (and a socket option's length), a msghdr, a timeval and an iovec array, at stable host addresses. */
const AREA = new Uint8Array(new SharedArrayBuffer(128 + UIO_MAXIOV * 16));
const AREA_ADDRESS = addressOf(AREA.buffer as SharedArrayBuffer);
const VIEW = new DataView(AREA.buffer);
const POLLFD_AT = 0, INT_AT = 8, MSGHDR_AT = 16, MSGHDR_SIZE = 56, TIMEVAL_AT = 80, TIMEVAL_LEN_AT = 96, IOV_AT = 128;

export type Spans = Array<[number, number]>;

const typeCache = new WeakMap<OpenFile, number>();

/** S_IFMT of the file's host object (cached: an open file never changes type). */
export function fileType(file: OpenFile): number {
  let type = typeCache.get(file);
  if (type === undefined) typeCache.set(file, (type = fdMode(file.hostFd) & S.IFMT));
  return type;
}

function neverBlocks(file: OpenFile): boolean {
  const type = fileType(file);
  return type === S.IFREG || type === S.IFDIR || type === S.IFBLK;
}

/**
 * Whether a write-like call on fd can wait only before it has moved anything: the file never
 * blocks, or the guest's fd is non-blocking. (A blocking pipe or socket write moves what fits,
 * then waits for room.) A bad fd fails without moving anything.
 */
export function waitsOnlyBeforeMoving(t: Thread, fd: number): boolean {
  let file: OpenFile;
  try {
    file = t.process.files.get(fd | 0);
  } catch {
    return true;
  }
  return neverBlocks(file) || (file.flags & O.NONBLOCK) !== 0;
}

/**
 * Sockets and anonymous inodes (eventfd, timerfd, epoll) are created non-blocking on the host
 * by the emulator, so an attempt never blocks it and the host reports its own errors first
 * (an eventfd read of fewer than 8 bytes is EINVAL, ready or not). Other fds may be shared
 * with the host's own processes in blocking mode (the terminal), so they are polled first.
 */
function hostNonblocking(file: OpenFile): boolean {
  const type = fileType(file);
  return type === S.IFSOCK || type === 0;
}

/** A zero-timeout host poll: the pending events of events (plus POLLERR, POLLHUP), 0 for none. */
function hostRevents(hostFd: number, events: number): number {
  VIEW.setInt32(POLLFD_AT, hostFd, true);
  VIEW.setInt16(POLLFD_AT + 4, events, true);
  VIEW.setInt16(POLLFD_AT + 6, 0, true);
  return hostSyscall(HostNr.poll, AREA_ADDRESS + POLLFD_AT, 1, 0) > 0 ? VIEW.getInt16(POLLFD_AT + 6, true) : 0;
}

/** A zero-timeout host poll: true when any of events (or an error or hang-up) is pending. */
export function hostReady(hostFd: number, events: number): boolean {
  return hostRevents(hostFd, events) !== 0;
}

/**
 * When a blocking socket call that starts waiting now gives up: SO_RCVTIMEO for input,
 * SO_SNDTIMEO for output (undefined: never, and for anything but a socket). The host holds
 * the guest's setting, so it is asked only when a call is about to wait.
 */
export function socketDeadline(file: OpenFile, events: number): number | undefined {
  if (fileType(file) !== S.IFSOCK) return undefined;
  VIEW.setUint32(TIMEVAL_LEN_AT, 16, true);
  const option = events & POLLOUT ? SO_SNDTIMEO : SO_RCVTIMEO;
  if (hostSyscall(HOST_GETSOCKOPT, file.hostFd, SOL_SOCKET, option, AREA_ADDRESS + TIMEVAL_AT, AREA_ADDRESS + TIMEVAL_LEN_AT) < 0) return undefined;
  const sec = Number(VIEW.getBigInt64(TIMEVAL_AT, true)), usec = Number(VIEW.getBigInt64(TIMEVAL_AT + 8, true));
  return sec === 0 && usec === 0 ? undefined : monotonicMs() + sec * 1e3 + usec / 1e3;
}

/**
 * One attempt at a read-like transfer; the guest's O_NONBLOCK decides EAGAIN or waiting, and
 * a socket's timeout ends the wait with EAGAIN, as Linux's sock_rcvtimeo does (and makes a
 * signal end it with EINTR even under SA_RESTART).
 */
export function transfer(file: OpenFile, events: number, attempt: () => number): SyscallResult {
  if (neverBlocks(file)) return attempt();
  let deadline: number | undefined | null = null; // null: not waited yet
  const run = (): SyscallResult => {
    if (hostNonblocking(file) || hostReady(file.hostFd, events)) {
      const r = attempt();
      if (r !== -E.EAGAIN) return r;
    }
    if (file.flags & O.NONBLOCK) return -E.EAGAIN;
    if (deadline === null) deadline = socketDeadline(file, events);
    else if (deadline !== undefined && monotonicMs() >= deadline) return -E.EAGAIN;
    return block({ kind: 'fd', hostFd: file.hostFd, events, deadline }, run, { restartable: deadline === undefined });
  };
  return run();
}

/**
 * A write of total bytes: writeSome(done, limit) writes at most limit bytes starting at byte
 * done. A blocking guest fd waits until everything is written, as Linux's pipe and socket
 * writes do; a pipe write never exceeds the pipe's free room, so the host never blocks.
 */
export function writeAll(file: OpenFile, total: number, writeSome: (done: number, limit: number) => number): SyscallResult {
  // Writing nothing never waits, not even on a full pipe.
  if (neverBlocks(file) || total === 0) return writeSome(0, total);
  const nonblocking = () => (file.flags & O.NONBLOCK) !== 0;
  let done = 0, waited = false;
  let deadline: number | undefined;
  const run = (): SyscallResult => {
    for (let revents = hostRevents(file.hostFd, POLLOUT); revents; revents = hostRevents(file.hostFd, POLLOUT)) {
      // A pipe with no reader left (POLLERR) has no room either: the write itself reports EPIPE.
      const limit = revents & POLLERR ? total - done : writeLimit(file, total - done);
      if (limit === 0) break;
      const r = writeSome(done, limit);
      if (r === -E.EAGAIN) break;
      if (r < 0) return done > 0 ? done : waited ? errorAfterWait(file, r) : r;
      done += r;
      if (done >= total || r === 0 || nonblocking()) return done;
    }
    if (nonblocking()) return done > 0 ? done : -E.EAGAIN;
    // A socket's SO_SNDTIMEO ends the wait with what was sent, or EAGAIN (sk_stream_wait_memory).
    if (!waited) deadline = socketDeadline(file, POLLOUT);
    else if (deadline !== undefined && monotonicMs() >= deadline) return done > 0 ? done : -E.EAGAIN;
    waited = true;
    return block({ kind: 'fd', hostFd: file.hostFd, events: POLLOUT, deadline }, run,
      { moved: () => done, restartable: deadline === undefined });
  };
  return run();
}

/**
 * The error of a socket write that failed after waiting for room. Linux's sender, asleep in
 * the kernel, takes the socket's pending error first (ECONNRESET when the peer closed with
 * data unread: no EPIPE, so no SIGPIPE); the host's non-blocking send that runs after the
 * wait only sees the broken pipe, so the pending error is fetched (and cleared) here.
 */
export function errorAfterWait(file: OpenFile, r: number): number {
  if (r !== -E.EPIPE || fileType(file) !== S.IFSOCK) return r;
  VIEW.setInt32(INT_AT, 0, true);
  VIEW.setUint32(INT_AT + 4, 4, true);
  hostSyscall(HOST_GETSOCKOPT, file.hostFd, SOL_SOCKET, SO_ERROR, AREA_ADDRESS + INT_AT, AREA_ADDRESS + INT_AT + 4);
  const pending = VIEW.getInt32(INT_AT, true);
  return pending ? -pending : r;
}

/** How much of want can go into a pipe now (writes up to PIPE_BUF are all-or-nothing). */
function writeLimit(file: OpenFile, want: number): number {
  if (fileType(file) !== S.IFIFO) return want;
  const size = hostSyscall(HostNr.fcntl, file.hostFd, F_GETPIPE_SZ);
  if (size < 0 || hostSyscall(HostNr.ioctl, file.hostFd, FIONREAD, AREA_ADDRESS + INT_AT) < 0) return want;
  const room = Math.max(0, size - VIEW.getInt32(INT_AT, true));
  if (want <= PIPE_BUF && room < want) return 0;
  return Math.min(want, room);
}

/**
 * Host spans of the longest accessible prefix of a guest buffer: Linux copies up to the
 * first fault and returns what it moved, so only a buffer bad from its first byte is EFAULT.
 */
export function guestSpans(t: Thread, addr: number, len: number, access: 'read' | 'write'): Spans {
  try {
    return t.mm.hostSpans(addr, len, access);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== E.EFAULT) throw e;
  }
  const need = access === 'write' ? Prot.WRITE : Prot.READ | Prot.WRITE | Prot.EXEC;
  let end = addr;
  for (let v = t.mm.findVma(end); v && v.prot & need && end < addr + len; v = t.mm.findVma(end)) end = v.end;
  if (end <= addr) throw new Errno(E.EFAULT);
  return t.mm.hostSpans(addr, Math.min(end, addr + len) - addr, access);
}

/** Drops the first skip bytes and keeps at most limit bytes of spans. */
export function sliceSpans(spans: Spans, skip: number, limit = Infinity): Spans {
  const out: Spans = [];
  for (const [addr, len] of spans) {
    if (limit <= 0) break;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(len - skip, limit);
    out.push([addr + skip, n]);
    limit -= n;
    skip = 0;
  }
  return out;
}

function putIovecs(spans: Spans): number {
  const n = Math.min(spans.length, UIO_MAXIOV);
  for (let i = 0; i < n; i++) {
    VIEW.setBigUint64(IOV_AT + i * 16, BigInt(spans[i][0]), true);
    VIEW.setBigUint64(IOV_AT + i * 16 + 8, BigInt(spans[i][1]), true);
  }
  return n;
}

/** A msghdr over spans for sendmsg/recvmsg, so sockets get MSG_DONTWAIT per call. */
function putMsghdr(spans: Spans): number {
  AREA.fill(0, MSGHDR_AT, MSGHDR_AT + MSGHDR_SIZE);
  VIEW.setBigUint64(MSGHDR_AT + 16, BigInt(AREA_ADDRESS + IOV_AT), true);
  VIEW.setBigUint64(MSGHDR_AT + 24, BigInt(putIovecs(spans)), true);
  return AREA_ADDRESS + MSGHDR_AT;
}

/** Reads into host spans at the file position (or at pos when given). */
export function hostReadv(file: OpenFile, spans: Spans, pos?: number): number {
  const fd = file.hostFd;
  if (pos === undefined && fileType(file) === S.IFSOCK && spans.length) {
    return hostSyscall(HostNrExtra.recvmsg, fd, putMsghdr(spans), MSG_DONTWAIT);
  }
  if (spans.length <= 1) {
    const [addr, len] = spans[0] ?? [0, 0];
    return pos === undefined ? hostSyscall(HostNr.read, fd, addr, len) : hostSyscall(HostNr.pread64, fd, addr, len, pos);
  }
  const n = putIovecs(spans);
  return pos === undefined ? hostSyscall(HostNr.readv, fd, AREA_ADDRESS + IOV_AT, n) : hostSyscall(HostNrExtra.preadv, fd, AREA_ADDRESS + IOV_AT, n, pos, 0);
}

export function hostWritev(file: OpenFile, spans: Spans, pos?: number): number {
  const r = writeSpans(file, spans, pos);
  if (r > 0) file.onWritten?.();
  return r;
}

function writeSpans(file: OpenFile, spans: Spans, pos?: number): number {
  const fd = file.hostFd;
  if (pos === undefined && fileType(file) === S.IFSOCK && spans.length) {
    return hostSyscall(HostNrExtra.sendmsg, fd, putMsghdr(spans), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  if (spans.length <= 1) {
    const [addr, len] = spans[0] ?? [0, 0];
    return pos === undefined ? hostSyscall(HostNr.write, fd, addr, len) : hostSyscall(HostNr.pwrite64, fd, addr, len, pos);
  }
  const n = putIovecs(spans);
  return pos === undefined ? hostSyscall(HostNr.writev, fd, AREA_ADDRESS + IOV_AT, n) : hostSyscall(HostNrExtra.pwritev, fd, AREA_ADDRESS + IOV_AT, n, pos, 0);
}

/** A size_t count as one call may move it (negative means a huge unsigned value). */
export const clampCount = (count: number) => (count < 0 || count > MAX_RW_COUNT ? MAX_RW_COUNT : count);

export const IOV_MAX = UIO_MAXIOV;
