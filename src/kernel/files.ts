import { E, Errno } from './errno.js';
import { SharedHostFd } from './host/host-fd.js';

export const O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, ACCMODE: 3, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400,
  TRUNC: 0o1000, APPEND: 0o2000, NONBLOCK: 0o4000, DSYNC: 0o10000, ASYNC: 0o20000,
  DIRECT: 0o40000, LARGEFILE: 0o100000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000,
  NOATIME: 0o1000000, CLOEXEC: 0o2000000, PATH: 0o10000000, TMPFILE: 0o20200000,
} as const;

/** Entries of a directory that exists only in the kernel (procfs, sysfs). */
export interface SyntheticDirEntry {
  name: string;
  /** DT_* type. */
  type: number;
}

/**
 * An open file description: what dup'd descriptors share. Every guest file is a host file
 * descriptor (synthetic files are memfds filled at open time), so reads, writes, seeks and
 * stats go to the host kernel; only a synthetic directory keeps its entries here.
 */
export class OpenFile extends SharedHostFd {
  /** Read position of a synthetic directory (entries already returned). */
  dirPosition = 0;
  /** Set for sockets (socket, accept, socketpair): the socket calls refuse anything else (ENOTSOCK). */
  isSocket = false;
  /** For a signalfd: the signals it reports (its host fd is an eventfd that says when). */
  signalMask: bigint | null = null;
  /** The guest path an AF_UNIX socket was bound to (getsockname reports it), or null. */
  socketPath: string | null = null;
  /** Set for epoll instances: epoll_ctl and epoll_wait refuse anything else (EINVAL). */
  isEpoll = false;
  /** For a writable synthetic file (/proc/PID/comm): applies what was written. */
  onWritten: (() => void) | null = null;

  constructor(
    hostFd: number,
    /** Access mode and status flags as the guest sees them (O_APPEND, O_NONBLOCK, ...). */
    public flags: number,
    /** The guest path it was opened by, for /proc/PID/fd and strace. */
    readonly guestPath: string,
    readonly syntheticDir: readonly SyntheticDirEntry[] | null = null,
  ) {
    super(hostFd, 1); // the opener's reference
  }

  get readable(): boolean {
    const m = this.flags & O.ACCMODE;
    return (this.flags & O.PATH) === 0 && (m === O.RDONLY || m === O.RDWR);
  }

  get writable(): boolean {
    const m = this.flags & O.ACCMODE;
    return (this.flags & O.PATH) === 0 && (m === O.WRONLY || m === O.RDWR);
  }

}

interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

/** A process's descriptor table: guest fd numbers to open file descriptions. */
export class FdTable {
  private readonly entries = new Map<number, FdEntry>();
  /** RLIMIT_NOFILE's soft limit; kept here because allocation checks it. */
  limit = 1024;

  get(fd: number): OpenFile {
    const e = this.entries.get(fd);
    if (!e) throw new Errno(E.EBADF);
    return e.file;
  }

  has(fd: number): boolean {
    return this.entries.has(fd);
  }

  cloexec(fd: number): boolean {
    const e = this.entries.get(fd);
    if (!e) throw new Errno(E.EBADF);
    return e.cloexec;
  }

  setCloexec(fd: number, on: boolean): void {
    const e = this.entries.get(fd);
    if (!e) throw new Errno(E.EBADF);
    e.cloexec = on;
  }

  /** Installs file at the lowest free fd >= min; the table takes the caller's reference. */
  install(file: OpenFile, cloexec: boolean, min = 0): number {
    let fd = min;
    while (this.entries.has(fd)) fd++;
    if (fd >= this.limit) {
      file.unref();
      throw new Errno(E.EMFILE);
    }
    this.entries.set(fd, { file, cloexec });
    return fd;
  }

  /** Installs at exactly fd, closing what was there (dup2/dup3). */
  installAt(fd: number, file: OpenFile, cloexec: boolean): void {
    if (fd < 0 || fd >= this.limit) {
      file.unref();
      throw new Errno(E.EBADF);
    }
    const old = this.entries.get(fd);
    this.entries.set(fd, { file, cloexec });
    old?.file.unref();
  }

  close(fd: number): void {
    const e = this.entries.get(fd);
    if (!e) throw new Errno(E.EBADF);
    this.entries.delete(fd);
    e.file.unref();
  }

  /** close_range: closes, or with cloexec marks FD_CLOEXEC on, every open fd in [first, last]. */
  closeRange(first: number, last: number, cloexec: boolean): void {
    for (const [fd, e] of [...this.entries]) {
      if (fd < first || fd > last) continue;
      if (cloexec) e.cloexec = true;
      else this.close(fd);
    }
  }

  /** fork: the same open file descriptions under the same numbers, FD_CLOEXEC included. */
  fork(): FdTable {
    const copy = new FdTable();
    copy.limit = this.limit;
    for (const [fd, e] of this.entries) copy.entries.set(fd, { file: e.file.ref(), cloexec: e.cloexec });
    return copy;
  }

  closeOnExec(): void {
    for (const [fd, e] of [...this.entries]) if (e.cloexec) this.close(fd);
  }

  closeAll(): void {
    for (const fd of [...this.entries.keys()]) this.close(fd);
  }

  *[Symbol.iterator](): IterableIterator<[number, OpenFile]> {
    for (const [fd, e] of this.entries) yield [fd, e.file];
  }
}
