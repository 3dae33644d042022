// File descriptors and the bytes through them: open/close, read/write and their vector and
// positional forms, seeking, dup, fcntl, ioctl, truncation and syncing. Every guest file is a
// host fd, so the data moves between the host fd and guest memory directly.
import { E, Errno } from './errno.js';
import { clampCount, fileType, guestSpans, hostReadv, hostWritev, IOV_MAX, MAX_RW_COUNT, POLLIN, sliceSpans, transfer, waitsOnlyBeforeMoving, writeAll, type Spans } from './fd-io.js';
import { O, OpenFile, type FdTable } from './files.js';
import { hostSyscall, HostNr, scratch } from './host/libc.js';
import { atPath, readPath } from './path-args.js';
import { block, int, remote, sys, uint, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import { monotonicMs } from './sys-time.js';
import type { Thread } from './task.js';
import { AT, check, cName, closeFd, fdMode, fdRdev, HostNrExtra, procFdPath, S } from './vfs/host.js';
import { openFileFlags, OpenWouldBlock } from './vfs/open.js';
import { readSignalfd } from './signalfd.js';
import { isDir, isReg } from './vfs/synth-stat.js';

function fileOf(t: Thread, fd: number): OpenFile {
  return t.process.files.get(int(fd));
}

function readableFile(t: Thread, fd: number): OpenFile {
  const file = fileOf(t, fd);
  if (!file.readable) throw new Errno(E.EBADF);
  return file;
}

function writableFile(t: Thread, fd: number): OpenFile {
  const file = fileOf(t, fd);
  if (!file.writable) throw new Errno(E.EBADF);
  return file;
}

// ---- open / close ----

/** How often a blocking open of a FIFO looks for the other end. */
const FIFO_RETRY_MS = 10;

function openAt(t: Thread, dirfd: number, pathAddr: number, flags: number, mode: number): SyscallResult {
  const path = readPath(t, pathAddr);
  const attempt = (): SyscallResult => {
    try {
      const file = t.kernel.vfs.open(t, int(dirfd), path, int(flags), uint(mode));
      if (int(flags) & O.TRUNC) afterShrink(t, 0);
      return t.process.files.install(file, (int(flags) & O.CLOEXEC) !== 0);
    } catch (e) {
      if (e instanceof OpenWouldBlock) return block({ kind: 'sleep', deadline: monotonicMs() + FIFO_RETRY_MS }, attempt);
      throw e;
    }
  };
  return attempt();
}

const open: SyscallHandler = (t, [path, flags, mode]) => openAt(t, AT.FDCWD, path, flags, mode);
const openat: SyscallHandler = (t, [dirfd, path, flags, mode]) => openAt(t, dirfd, path, flags, mode);
const creat: SyscallHandler = (t, [path, mode]) => openAt(t, AT.FDCWD, path, O.CREAT | O.WRONLY | O.TRUNC, mode);

const close: SyscallHandler = (t, [fd]) => {
  t.process.files.close(int(fd));
  return 0;
};

const CLOSE_RANGE = { UNSHARE: 2, CLOEXEC: 4 } as const;

/**
 * close_range: fds that are not open are skipped, as on Linux. CLOSE_RANGE_UNSHARE asks for a
 * private fd table first; a process's table is never shared with another here (CLONE_FILES
 * threads are the same process, whose table Linux would unshare from them only to close the
 * same fds in its own copy), so closing in the one table is what the caller observes.
 */
const closeRange: SyscallHandler = (t, [first, last, flags]) => {
  if (uint(flags) & ~(CLOSE_RANGE.UNSHARE | CLOSE_RANGE.CLOEXEC)) throw new Errno(E.EINVAL);
  if (uint(first) > uint(last)) throw new Errno(E.EINVAL);
  t.process.files.closeRange(uint(first), uint(last), (uint(flags) & CLOSE_RANGE.CLOEXEC) !== 0);
  return 0;
};

// ---- memfd_create ----

const MFD = { CLOEXEC: 1, ALLOW_SEALING: 2, HUGETLB: 4 } as const;
/** NAME_MAX minus the "memfd:" prefix Linux gives the name. */
const MFD_NAME_MAX = 249;

/**
 * memfd_create: a host memfd, so read, write, lseek, ftruncate, fstat, seals and mmap all go
 * to the host kernel as for any file. MFD_HUGETLB (and the MFD_HUGE_* sizes) is EINVAL: the
 * guest's memory is not backed by huge pages, as on a kernel without hugetlbfs pages reserved.
 * MFD_NOEXEC_SEAL and MFD_EXEC (Linux 6.3) are EINVAL as on the kernels before them.
 */
const memfdCreate: SyscallHandler = (t, [nameAddr, flagsArg]) => {
  const flags = uint(flagsArg);
  if (flags & ~(MFD.CLOEXEC | MFD.ALLOW_SEALING)) throw new Errno(E.EINVAL);
  let name: string;
  try {
    name = t.mm.readCString(nameAddr, MFD_NAME_MAX);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.EINVAL);
    throw e;
  }
  // The host fd is close-on-exec like every host fd of the emulator; the guest's bit is in its table.
  const hostFd = check(hostSyscall(HostNrExtra.memfd_create, cName(name), MFD.CLOEXEC | (flags & MFD.ALLOW_SEALING)));
  const file = new OpenFile(hostFd, openFileFlags(O.RDWR), `/memfd:${name} (deleted)`);
  return t.process.files.install(file, (flags & MFD.CLOEXEC) !== 0);
};

// ---- reading and writing ----

const read: SyscallHandler = (t, [fd, buf, count]) => {
  const file = readableFile(t, fd);
  if (file.signalMask !== null) return readSignalfd(t, file, buf, count);
  const n = clampCount(count);
  return transfer(file, POLLIN, () => hostReadv(file, guestSpans(t, buf, n, 'write')));
};

const write: SyscallHandler = (t, [fd, buf, count]) => {
  const file = writableFile(t, fd);
  const n = clampCount(count);
  return writeAll(file, n, (done, limit) => hostWritev(file, guestSpans(t, buf + done, Math.min(limit, n - done), 'read')));
};

function checkOffset(pos: number): number {
  if (pos < 0) throw new Errno(E.EINVAL);
  return pos;
}

const pread64: SyscallHandler = (t, [fd, buf, count, pos]) => {
  const file = readableFile(t, fd);
  checkOffset(pos);
  return hostReadv(file, guestSpans(t, buf, clampCount(count), 'write'), pos);
};

const pwrite64: SyscallHandler = (t, [fd, buf, count, pos]) => {
  const file = writableFile(t, fd);
  checkOffset(pos);
  return hostWritev(file, guestSpans(t, buf, clampCount(count), 'read'), pos);
};

/**
 * A guest iovec array, validated as Linux does (count, lengths, total), as a function that
 * maps it to host spans: called per attempt, so a wait never keeps stale host addresses.
 */
function guestIovecs(t: Thread, iov: number, count: number, access: 'read' | 'write'): { total: number; spans: () => Spans } {
  if (count < 0 || count > IOV_MAX) throw new Errno(E.EINVAL);
  const raw = new DataView(t.mm.read(iov, count * 16).buffer);
  const parts: Array<[number, number]> = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = Number(raw.getBigUint64(i * 16, true));
    const len = raw.getBigInt64(i * 16 + 8, true);
    if (len < 0n) throw new Errno(E.EINVAL);
    total += Number(len);
    if (total > Number.MAX_SAFE_INTEGER) throw new Errno(E.EINVAL);
    if (len > 0n) parts.push([base, Number(len)]);
  }
  total = Math.min(total, MAX_RW_COUNT);
  const spans = (): Spans => {
    // Up to the first fault, as Linux copies; EFAULT only when nothing at all is accessible.
    const out: Spans = [];
    for (const [base, len] of parts) {
      let part: Spans;
      try {
        part = guestSpans(t, base, len, access);
      } catch (e) {
        if (out.length) break;
        throw e;
      }
      out.push(...part);
      if (part.reduce((n, [, l]) => n + l, 0) < len) break;
    }
    return sliceSpans(out, 0, total);
  };
  return { total, spans };
}

const readv: SyscallHandler = (t, [fd, iov, count]) => {
  const file = readableFile(t, fd);
  const { spans } = guestIovecs(t, iov, count, 'write');
  return transfer(file, POLLIN, () => hostReadv(file, spans()));
};

const writev: SyscallHandler = (t, [fd, iov, count]) => {
  const file = writableFile(t, fd);
  const { total, spans } = guestIovecs(t, iov, count, 'read');
  return writeAll(file, total, (done, limit) => hostWritev(file, sliceSpans(spans(), done, limit)));
};

const preadv: SyscallHandler = (t, [fd, iov, count, pos]) => {
  const file = readableFile(t, fd);
  const { spans } = guestIovecs(t, iov, count, 'write');
  return hostReadv(file, spans(), checkOffset(pos));
};

const pwritev: SyscallHandler = (t, [fd, iov, count, pos]) => {
  const file = writableFile(t, fd);
  const { spans } = guestIovecs(t, iov, count, 'read');
  return hostWritev(file, spans(), checkOffset(pos));
};

/** preadv2/pwritev2: offset -1 means the file position; the RWF_ hints are accepted and ignored. */
const preadv2: SyscallHandler = (t, a) => (a[3] === -1 ? readv(t, a) : preadv(t, a));
const pwritev2: SyscallHandler = (t, a) => (a[3] === -1 ? writev(t, a) : pwritev(t, a));

const SEEK_SET = 0, SEEK_CUR = 1;

const lseek: SyscallHandler = (t, [fd, offset, whence]) => {
  const file = fileOf(t, fd);
  if (!file.syntheticDir) return hostSyscall(HostNr.lseek, file.hostFd, offset, uint(whence));
  // A synthetic directory's position is an index into its entries.
  const base = uint(whence) === SEEK_SET ? 0 : uint(whence) === SEEK_CUR ? file.dirPosition : -1;
  if (base < 0 || base + offset < 0) throw new Errno(E.EINVAL);
  return (file.dirPosition = base + offset);
};

// ---- sendfile, copy_file_range ----

/** A guest loff_t in/out argument (null pointer: use the file position). */
function withOffset(t: Thread, ptr: number, slot: number, call: (hostAddr: number) => number): number {
  if (!ptr) return call(0);
  const b = scratch.bounce(16);
  const view = new DataView(b.view.buffer, b.view.byteOffset, 16);
  view.setBigInt64(slot, BigInt(t.mm.readI64(ptr)), true);
  const r = call(b.address + slot);
  if (r >= 0) t.mm.writeU64(ptr, view.getBigInt64(slot, true));
  return r;
}

/** Output to a pipe, socket or tty goes in bounded pieces so the host call cannot stall. */
const SENDFILE_PIECE = 1 << 16;

const sendfile: SyscallHandler = (t, [outFd, inFd, offPtr, count]) => {
  const out = writableFile(t, outFd);
  const input = readableFile(t, inFd);
  if (offPtr) t.mm.readI64(offPtr);
  const total = clampCount(count);
  const regularOut = fileType(out) === S.IFREG;
  return writeAll(out, total, (_done, limit) => withOffset(t, offPtr, 0, (off) =>
    hostSyscall(HostNr.sendfile, out.hostFd, input.hostFd, off, regularOut ? limit : Math.min(limit, SENDFILE_PIECE))));
};

const copyFileRange: SyscallHandler = (t, [inFd, inOff, outFd, outOff, len, flags]) => {
  const input = readableFile(t, inFd);
  const out = writableFile(t, outFd);
  return withOffset(t, inOff, 0, (inAddr) => withOffset(t, outOff, 8, (outAddr) =>
    hostSyscall(HostNr.copy_file_range, input.hostFd, inAddr, out.hostFd, outAddr, clampCount(len), uint(flags))));
};

// ---- dup ----

const dup: SyscallHandler = (t, [fd]) => {
  const file = fileOf(t, fd);
  return t.process.files.install(file.ref(), false);
};

function dupTo(t: Thread, oldFd: number, newFd: number, cloexec: boolean): number {
  const files = t.process.files;
  if (uint(newFd) >= files.limit) throw new Errno(E.EBADF);
  const file = files.get(int(oldFd));
  files.installAt(int(newFd), file.ref(), cloexec);
  return int(newFd);
}

const dup2: SyscallHandler = (t, [oldFd, newFd]) => {
  if (int(oldFd) === int(newFd)) {
    fileOf(t, oldFd);
    return int(newFd);
  }
  return dupTo(t, oldFd, newFd, false);
};

const dup3: SyscallHandler = (t, [oldFd, newFd, flags]) => {
  if (int(flags) & ~O.CLOEXEC) throw new Errno(E.EINVAL);
  if (int(oldFd) === int(newFd)) throw new Errno(E.EINVAL);
  return dupTo(t, oldFd, newFd, (int(flags) & O.CLOEXEC) !== 0);
};

// ---- fcntl ----

const F = {
  DUPFD: 0, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, GETLK: 5, SETLK: 6, SETLKW: 7,
  OFD_GETLK: 36, OFD_SETLK: 37, OFD_SETLKW: 38, DUPFD_CLOEXEC: 1030,
  SETPIPE_SZ: 1031, GETPIPE_SZ: 1032, ADD_SEALS: 1033, GET_SEALS: 1034,
} as const;
const FD_CLOEXEC = 1;
/** Status flags F_SETFL may change; those the host must also know about. */
const SETFL_MASK = O.APPEND | O.NONBLOCK | O.ASYNC | O.DIRECT | O.NOATIME;
const HOST_SETFL = O.APPEND | O.DIRECT | O.NOATIME;
/** Retry interval of a lock that has to wait (the host call itself must not block). */
const LOCK_RETRY_MS = 5;

function setStatusFlags(file: OpenFile, arg: number): number {
  const next = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK);
  // O_NONBLOCK stays in the guest's view only: host fds may be shared with the terminal.
  if ((next ^ file.flags) & HOST_SETFL) {
    const fl = check(hostSyscall(HostNr.fcntl, file.hostFd, F.GETFL));
    check(hostSyscall(HostNr.fcntl, file.hostFd, F.SETFL, (fl & ~HOST_SETFL) | (next & HOST_SETFL)));
  }
  file.flags = next;
  return 0;
}

/** struct flock (32 bytes) through the host; a waiting lock polls instead of blocking the host call. */
function lock(t: Thread, file: OpenFile, cmd: number, arg: number): SyscallResult {
  const flock = t.mm.read(arg, 32);
  const wait = cmd === F.SETLKW || cmd === F.OFD_SETLKW;
  const hostCmd = cmd === F.SETLKW ? F.SETLK : cmd === F.OFD_SETLKW ? F.OFD_SETLK : cmd;
  const attempt = (): SyscallResult => {
    const b = scratch.bounce(32);
    b.view.set(flock);
    const r = hostSyscall(HostNr.fcntl, file.hostFd, hostCmd, b.address);
    if (wait && (r === -E.EAGAIN || r === -E.EACCES)) return block({ kind: 'sleep', deadline: monotonicMs() + LOCK_RETRY_MS }, attempt);
    if (r >= 0 && (cmd === F.GETLK || cmd === F.OFD_GETLK)) t.mm.write(arg, b.view.slice(0, 32));
    return r;
  };
  return attempt();
}

const fcntl: SyscallHandler = (t, [fdArg, cmdArg, arg]) => {
  const fd = int(fdArg), cmd = int(cmdArg);
  const files = t.process.files;
  const file = files.get(fd);
  switch (cmd) {
    case F.DUPFD:
    case F.DUPFD_CLOEXEC:
      if (int(arg) < 0 || int(arg) >= files.limit) throw new Errno(E.EINVAL);
      return files.install(file.ref(), cmd === F.DUPFD_CLOEXEC, int(arg));
    case F.GETFD:
      return files.cloexec(fd) ? FD_CLOEXEC : 0;
    case F.SETFD:
      files.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F.GETFL:
      return file.flags;
  }
  // An O_PATH descriptor allows only the commands above.
  if (file.flags & O.PATH) throw new Errno(E.EBADF);
  switch (cmd) {
    case F.SETFL:
      return setStatusFlags(file, int(arg));
    case F.GETLK: case F.SETLK: case F.SETLKW:
    case F.OFD_GETLK: case F.OFD_SETLK: case F.OFD_SETLKW:
      return lock(t, file, cmd, arg);
    case F.SETPIPE_SZ: case F.GETPIPE_SZ: case F.ADD_SEALS: case F.GET_SEALS:
      return hostSyscall(HostNr.fcntl, file.hostFd, cmd, arg);
    default:
      throw new Errno(E.EINVAL);
  }
};

const LOCK_NB = 4;

const flock: SyscallHandler = (t, [fd, op]) => {
  const file = fileOf(t, fd);
  const attempt = (): SyscallResult => {
    const r = hostSyscall(HostNrExtra.flock, file.hostFd, int(op) | LOCK_NB);
    if (r === -E.EAGAIN && !(int(op) & LOCK_NB)) return block({ kind: 'sleep', deadline: monotonicMs() + LOCK_RETRY_MS }, attempt);
    return r;
  };
  return attempt();
};

// ---- ioctl ----

const IOC = {
  TCGETS: 0x5401, TCSETS: 0x5402, TCSETSW: 0x5403, TCSETSF: 0x5404, TIOCSCTTY: 0x540e, TIOCGPGRP: 0x540f, TIOCSPGRP: 0x5410,
  TIOCGWINSZ: 0x5413, TIOCSWINSZ: 0x5414, FIONREAD: 0x541b, FIONBIO: 0x5421, FIONCLEX: 0x5450, FIOCLEX: 0x5451,
} as const;
const TERMIOS_SIZE = 36, WINSIZE_SIZE = 8;

/**
 * The guest's foreground process group per terminal (by host rdev): guest pids mean nothing
 * to the host, so TIOCSPGRP is kept here and TIOCGPGRP answers from it.
 */
const foregroundGroups = new Map<number, number>();
let lastForegroundGroup: number | undefined;
/** The session each terminal is the controlling terminal of (TIOCSCTTY), by host rdev. */
const controllingSessions = new Map<number, number>();

/** The foreground process group the guest last gave its terminal (where Ctrl-C goes), if any. */
export function consoleForegroundGroup(): number | undefined {
  return lastForegroundGroup;
}

function ttyKey(file: OpenFile): number {
  // TCGETS answers ENOTTY for anything that is not a terminal, as Linux would.
  const b = scratch.bounce(TERMIOS_SIZE);
  check(hostSyscall(HostNr.ioctl, file.hostFd, IOC.TCGETS, b.address));
  return fdRdev(file.hostFd);
}

const ioctl: SyscallHandler = (t, [fdArg, cmdArg, arg]) => {
  const fd = int(fdArg), cmd = uint(cmdArg);
  const files = t.process.files;
  const file = files.get(fd);
  if (file.flags & O.PATH) throw new Errno(E.EBADF);
  const hostIoctl = (size: number, access: 'read' | 'write') =>
    t.mm.withHostBuffer(arg, size, access, (h) => hostSyscall(HostNr.ioctl, file.hostFd, cmd, h));
  switch (cmd) {
    case IOC.TCGETS: return hostIoctl(TERMIOS_SIZE, 'write');
    case IOC.TCSETS: case IOC.TCSETSW: case IOC.TCSETSF: return hostIoctl(TERMIOS_SIZE, 'read');
    case IOC.TIOCGWINSZ: return hostIoctl(WINSIZE_SIZE, 'write');
    case IOC.TIOCSWINSZ: return hostIoctl(WINSIZE_SIZE, 'read');
    case IOC.FIONREAD: return hostIoctl(4, 'write');
    case IOC.TIOCGPGRP: {
      const key = ttyKey(file);
      t.mm.writeU32(arg, foregroundGroups.get(key) ?? t.process.pgid);
      return 0;
    }
    case IOC.TIOCSCTTY: {
      // Only a session leader may take a controlling terminal, and not one another live
      // session holds unless it forces (arg 1, which CAP_SYS_ADMIN allows: the guest is root).
      const key = ttyKey(file);
      const p = t.process;
      if (p.sid !== p.pid) throw new Errno(E.EPERM);
      const owner = controllingSessions.get(key);
      const ownerAlive = owner !== undefined && owner !== p.sid &&
        [...t.kernel.scheduler.processes()].some((q) => q.sid === owner && q.exitStatus === null);
      if (ownerAlive && int(arg) !== 1) throw new Errno(E.EPERM);
      controllingSessions.set(key, p.sid);
      foregroundGroups.set(key, p.pgid);
      lastForegroundGroup = p.pgid;
      return 0;
    }
    case IOC.TIOCSPGRP: {
      const pgid = t.mm.readU32(arg) | 0;
      if (pgid < 0) throw new Errno(E.EINVAL);
      foregroundGroups.set(ttyKey(file), pgid);
      lastForegroundGroup = pgid;
      return 0;
    }
    case IOC.FIONBIO:
      file.flags = t.mm.readU32(arg) ? file.flags | O.NONBLOCK : file.flags & ~O.NONBLOCK;
      return 0;
    case IOC.FIOCLEX: case IOC.FIONCLEX:
      files.setCloexec(fd, cmd === IOC.FIOCLEX);
      return 0;
    default:
      throw new Errno(E.ENOTTY);
  }
};

// ---- truncation, syncing, allocation ----

/** A file the guest shrank may back mappings: see AddressSpace.revalidateFileMappings. */
function afterShrink(t: Thread, r: number): number {
  if (r >= 0) t.mm.revalidateFileMappings();
  return r;
}

const ftruncate: SyscallHandler = (t, [fd, length]) => {
  if (length < 0) throw new Errno(E.EINVAL);
  return afterShrink(t, hostSyscall(HostNr.ftruncate, fileOf(t, fd).hostFd, length));
};

const truncate: SyscallHandler = (t, [path, length]) => {
  if (length < 0) throw new Errno(E.EINVAL);
  const vfs = t.kernel.vfs;
  return afterShrink(t, atPath(t, AT.FDCWD, path, { follow: true }, (r) => vfs.withObjectFd(r, (fd) => {
    const mode = fdMode(fd);
    if (isDir(mode)) throw new Errno(E.EISDIR);
    if (!isReg(mode)) throw new Errno(E.EINVAL);
    if (vfs.isReadOnly(r.path)) throw new Errno(E.EROFS);
    // Opening for writing checks write permission, as truncate requires; /proc/self/fd/N
    // reaches exactly the object resolved, without following anything.
    const w = check(hostSyscall(HostNr.openat, AT.FDCWD, cName(procFdPath(fd)), O.WRONLY | O.CLOEXEC));
    try {
      return hostSyscall(HostNr.ftruncate, w, length);
    } finally {
      closeFd(w);
    }
  })));
};

const fsync: SyscallHandler = (t, [fd]) => hostSyscall(HostNr.fsync, fileOf(t, fd).hostFd);
const fdatasync: SyscallHandler = (t, [fd]) => hostSyscall(HostNr.fdatasync, fileOf(t, fd).hostFd);
const fallocate: SyscallHandler = (t, [fd, mode, offset, len]) =>
  hostSyscall(HostNr.fallocate, fileOf(t, fd).hostFd, int(mode), offset, len);

// ---- standard streams ----

const F_DUPFD_CLOEXEC = 1030;

/** The guest's console when it is not starling's own terminal: a host pty slave (main/console/). */
export interface GuestConsole {
  hostFd: number;
  /** What /dev/console and /dev/tty open. */
  hostPath: string;
}

/**
 * Guest fds 0, 1 and 2 over copies of the host's, or of the console's (consoleFd): the guest
 * sees the host's access modes (a terminal is O_RDWR on all three, as on Linux) but never its
 * O_NONBLOCK.
 */
export function openStandardStreams(files: FdTable, consoleFd: number | null): void {
  ['/dev/stdin', '/dev/stdout', '/dev/stderr'].forEach((guestPath, fd) => {
    const hostFd = hostSyscall(HostNr.fcntl, consoleFd ?? fd, F_DUPFD_CLOEXEC, 0);
    if (hostFd < 0) return;
    const fl = hostSyscall(HostNr.fcntl, hostFd, F.GETFL);
    const flags = fl >= 0 ? fl & ~O.NONBLOCK : (fd === 0 ? O.RDONLY : O.WRONLY) | O.LARGEFILE;
    files.installAt(fd, new OpenFile(hostFd, flags, consoleFd === null ? guestPath : '/dev/console'), false);
  });
}

/** A write that could wait after moving part of its data is made through an exit (remote). */
const writeMovesAtOnce = (t: Thread, [fd]: readonly number[]) => waitsOnlyBeforeMoving(t, fd);

export const fileSyscalls: SyscallEntry[] = [
  remote(sys(0, 'read', read, ['fd', 'outbuf', 'size'])),
  remote(sys(1, 'write', write, ['fd', 'inbuf', 'size']), writeMovesAtOnce),
  sys(2, 'open', open, ['path', 'oflags', 'mode'], 'fd'),
  sys(3, 'close', close, ['fd']),
  remote(sys(8, 'lseek', lseek, ['fd', 'off', 'whence'])),
  sys(16, 'ioctl', ioctl, ['fd', 'ioctlcmd', 'hex']),
  remote(sys(17, 'pread64', pread64, ['fd', 'outbuf', 'size', 'off'])),
  remote(sys(18, 'pwrite64', pwrite64, ['fd', 'inbuf', 'size', 'off']), writeMovesAtOnce),
  remote(sys(19, 'readv', readv, ['fd', 'iovec_out', 'int'])),
  remote(sys(20, 'writev', writev, ['fd', 'iovec_in', 'int']), writeMovesAtOnce),
  sys(32, 'dup', dup, ['fd'], 'fd'),
  sys(33, 'dup2', dup2, ['fd', 'fd'], 'fd'),
  sys(40, 'sendfile', sendfile, ['fd', 'fd', 'ptr', 'size']),
  sys(72, 'fcntl', fcntl, ['fd', 'fcntlcmd', 'hex']),
  sys(73, 'flock', flock, ['fd', 'int']),
  sys(74, 'fsync', fsync, ['fd']),
  sys(75, 'fdatasync', fdatasync, ['fd']),
  sys(76, 'truncate', truncate, ['path', 'off']),
  sys(77, 'ftruncate', ftruncate, ['fd', 'off']),
  sys(85, 'creat', creat, ['path', 'mode'], 'fd'),
  sys(257, 'openat', openat, ['dirfd', 'path', 'oflags', 'mode'], 'fd'),
  sys(285, 'fallocate', fallocate, ['fd', 'int', 'off', 'off']),
  sys(292, 'dup3', dup3, ['fd', 'fd', 'oflags'], 'fd'),
  sys(295, 'preadv', preadv, ['fd', 'iovec_out', 'int', 'off']),
  sys(296, 'pwritev', pwritev, ['fd', 'iovec_in', 'int', 'off']),
  sys(319, 'memfd_create', memfdCreate, ['str', 'hex'], 'fd'),
  sys(326, 'copy_file_range', copyFileRange, ['fd', 'ptr', 'fd', 'ptr', 'size', 'uint']),
  sys(327, 'preadv2', preadv2, ['fd', 'iovec_out', 'int', 'off', 'off', 'hex']),
  sys(328, 'pwritev2', pwritev2, ['fd', 'iovec_in', 'int', 'off', 'off', 'hex']),
  sys(436, 'close_range', closeRange, ['uint', 'uint', 'hex']),
];
