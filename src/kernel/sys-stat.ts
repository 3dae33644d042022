// Metadata: stat and statx, access checks, symlink contents, filesystem statistics, and
// changing modes, owners and timestamps. Host structs are the guest's (both x86-64), so host
// answers go straight into guest memory; synthetic objects get structs made here.
import { E, Errno } from './errno.js';
import type { OpenFile } from './files.js';
import { hostSyscall, HostNr, scratch } from './host/libc.js';
import { AT, atPath, callAt, fileResolved, onlyFlags, readPath } from './path-args.js';
import { int, remote, sys, uint, type SyscallEntry, type SyscallHandler } from './syscall.js';
import type { Thread } from './task.js';
import { cName, modeAt, procFdPath, W_OK, X_OK } from './vfs/host.js';
import { encodeStat, encodeStatfs, encodeStatx, isDir, isLnk, isReg, ST_RDONLY } from './vfs/synth-stat.js';
import type { AtRef, Resolved, Vfs } from './vfs/vfs.js';

const STAT_SIZE = 144, STATX_SIZE = 256, STATFS_SIZE = 120;
const STAT_FLAGS = AT.SYMLINK_NOFOLLOW | AT.NO_AUTOMOUNT | AT.EMPTY_PATH | AT.STATX_SYNC_TYPE;
const STATX_RESERVED = 0x80000000;

const lookupOpts = (flags: number) => ({ follow: !(flags & AT.SYMLINK_NOFOLLOW), emptyPath: (flags & AT.EMPTY_PATH) !== 0 });

function fileArg(t: Thread, fd: number): OpenFile {
  return t.process.files.get(int(fd));
}

// ---- stat ----

function writeStat(t: Thread, r: Resolved, buf: number): number {
  const vfs = t.kernel.vfs;
  const info = vfs.synthStat(r);
  if (info) {
    t.mm.write(buf, encodeStat(info));
    return 0;
  }
  const ref = vfs.atRef(r)!;
  return t.mm.withHostBuffer(buf, STAT_SIZE, 'write', (h) => callAt(ref, (fd, name, flags) => hostSyscall(HostNr.newfstatat, fd, name, h, flags)));
}

const stat: SyscallHandler = (t, [path, buf]) => atPath(t, AT.FDCWD, path, { follow: true }, (r) => writeStat(t, r, buf));
const lstat: SyscallHandler = (t, [path, buf]) => atPath(t, AT.FDCWD, path, { follow: false }, (r) => writeStat(t, r, buf));
const fstat: SyscallHandler = (t, [fd, buf]) => writeStat(t, fileResolved(fileArg(t, fd)), buf);

const newfstatat: SyscallHandler = (t, [dirfd, path, buf, flagsArg]) => {
  const flags = onlyFlags(int(flagsArg), STAT_FLAGS);
  return atPath(t, dirfd, path, lookupOpts(flags), (r) => writeStat(t, r, buf));
};

const statx: SyscallHandler = (t, [dirfd, pathAddr, flagsArg, mask, buf]) => {
  const flags = onlyFlags(int(flagsArg), STAT_FLAGS);
  if ((flags & AT.STATX_SYNC_TYPE) === AT.STATX_SYNC_TYPE || uint(mask) & STATX_RESERVED) throw new Errno(E.EINVAL);
  // Linux 6.11 allows a NULL path with AT_EMPTY_PATH.
  const path = pathAddr === 0 && flags & AT.EMPTY_PATH ? '' : readPath(t, pathAddr);
  const vfs = t.kernel.vfs;
  return vfs.lookup(t, int(dirfd), path, lookupOpts(flags), (r) => {
    const info = vfs.synthStat(r);
    if (info) {
      t.mm.write(buf, encodeStatx(info));
      return 0;
    }
    const ref = vfs.atRef(r)!;
    return t.mm.withHostBuffer(buf, STATX_SIZE, 'write', (h) =>
      callAt(ref, (fd, name, f) => hostSyscall(HostNr.statx, fd, name, f | (flags & AT.STATX_SYNC_TYPE), uint(mask), h)));
  });
};

// ---- access ----

/** EROFS applies to writing files, directories and symlinks, not to devices or FIFOs. */
function roWritable(ref: AtRef): boolean {
  const mode = ref.fd === AT.FDCWD ? -1 : modeAt(ref.fd, ref.name);
  return mode >= 0 && (isReg(mode) || isDir(mode) || isLnk(mode));
}

function faccess(t: Thread, dirfd: number, path: number, modeArg: number, flags: number): number {
  onlyFlags(flags, AT.EACCESS | AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH);
  const mode = int(modeArg);
  if (mode & ~7) throw new Errno(E.EINVAL);
  const vfs = t.kernel.vfs;
  return atPath(t, dirfd, path, lookupOpts(flags), (r) => {
    const info = vfs.synthStat(r);
    // The guest is root: only execute needs a bit, as for root on Linux.
    if (info) return mode & X_OK && !(info.mode & 0o111) ? -E.EACCES : 0;
    const ref = vfs.atRef(r)!;
    const rc = callAt(ref, (fd, name, f) => hostSyscall(HostNr.faccessat2, fd, name, mode, f | (flags & AT.EACCESS)));
    if ((rc === 0 || rc === -E.EACCES) && mode & W_OK && vfs.isReadOnly(r.path) && roWritable(ref)) return -E.EROFS;
    return rc;
  });
}

const access: SyscallHandler = (t, [path, mode]) => faccess(t, AT.FDCWD, path, mode, 0);
const faccessat: SyscallHandler = (t, [dirfd, path, mode]) => faccess(t, dirfd, path, mode, 0);
const faccessat2: SyscallHandler = (t, [dirfd, path, mode, flags]) => faccess(t, dirfd, path, mode, int(flags));

// ---- readlink ----

function readlinkAt(t: Thread, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (int(size) <= 0) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  if (path === '' && int(dirfd) === AT.FDCWD) throw new Errno(E.ENOENT);
  const vfs = t.kernel.vfs;
  return vfs.lookup(t, int(dirfd), path, { follow: false, emptyPath: true }, (r) => {
    const bytes = Buffer.from(vfs.readlink(r), 'latin1');
    const n = Math.min(bytes.length, int(size));
    t.mm.write(buf, bytes.subarray(0, n));
    return n;
  });
}

const readlink: SyscallHandler = (t, [path, buf, size]) => readlinkAt(t, AT.FDCWD, path, buf, size);
const readlinkat: SyscallHandler = (t, [dirfd, path, buf, size]) => readlinkAt(t, dirfd, path, buf, size);

// ---- statfs ----

function writeStatfs(t: Thread, r: Resolved, buf: number): number {
  const vfs = t.kernel.vfs;
  const mount = vfs.mountOfTarget(r);
  if (mount.kind === 'synth' || (r.target.kind === 'file' && r.target.file.syntheticDir)) {
    if (r.target.kind === 'synth' && !r.target.node) throw new Errno(E.ENOENT);
    t.mm.write(buf, encodeStatfs(mount.kind === 'synth' ? mount.magic : 0, false));
    return 0;
  }
  const rc = vfs.withObjectFd(r, (fd) => t.mm.withHostBuffer(buf, STATFS_SIZE, 'write', (h) => hostSyscall(HostNr.fstatfs, fd, h)));
  if (rc === 0 && mount.readOnly) t.mm.writeU64(buf + 80, t.mm.readU64(buf + 80) | ST_RDONLY);
  return rc;
}

const statfs: SyscallHandler = (t, [path, buf]) => atPath(t, AT.FDCWD, path, { follow: true }, (r) => writeStatfs(t, r, buf));
const fstatfs: SyscallHandler = (t, [fd, buf]) => writeStatfs(t, fileResolved(fileArg(t, fd)), buf);

// ---- changing metadata ----

/**
 * Only objects the VFS opened inside the jail may have their metadata changed: any other
 * descriptor (an open /dev/null, the terminal, a redirect of the host's) is a host object.
 */
function requireChangeable(vfs: Vfs, file: OpenFile): void {
  if (!vfs.isJailed(file)) throw new Errno(E.EPERM);
  if (vfs.isReadOnly(file.guestPath)) throw new Errno(E.EROFS);
}

/** The host object r names, when the guest may change its metadata. */
function changeable(t: Thread, r: Resolved): AtRef {
  const vfs = t.kernel.vfs;
  const target = r.target;
  if (target.kind === 'synth') throw new Errno(target.node ? E.EPERM : E.ENOENT);
  if (target.kind === 'file') requireChangeable(vfs, target.file);
  else if (target.exists === false) throw new Errno(E.ENOENT);
  else if (target.mount.readOnly) throw new Errno(E.EROFS);
  return vfs.atRef(r)!;
}

/** chmod has no *at() form that refuses symlinks; /proc/self/fd/N of the object stands in. */
function chmodResolved(t: Thread, r: Resolved, mode: number): number {
  changeable(t, r);
  return t.kernel.vfs.withObjectFd(r, (fd) => hostSyscall(HostNr.fchmodat, AT.FDCWD, cName(procFdPath(fd)), uint(mode) & 0o7777));
}

const chmod: SyscallHandler = (t, [path, mode]) => atPath(t, AT.FDCWD, path, { follow: true }, (r) => chmodResolved(t, r, mode));
const fchmodat: SyscallHandler = (t, [dirfd, path, mode]) => atPath(t, dirfd, path, { follow: true }, (r) => chmodResolved(t, r, mode));

const fchmod: SyscallHandler = (t, [fd, mode]) => {
  const file = fileArg(t, fd);
  requireChangeable(t.kernel.vfs, file);
  return hostSyscall(HostNr.fchmod, file.hostFd, uint(mode) & 0o7777);
};

function chownResolved(t: Thread, r: Resolved, uid: number, gid: number): number {
  return callAt(changeable(t, r), (fd, name, flags) => hostSyscall(HostNr.fchownat, fd, name, uint(uid), uint(gid), flags));
}

const chown: SyscallHandler = (t, [path, uid, gid]) => atPath(t, AT.FDCWD, path, { follow: true }, (r) => chownResolved(t, r, uid, gid));
const lchown: SyscallHandler = (t, [path, uid, gid]) => atPath(t, AT.FDCWD, path, { follow: false }, (r) => chownResolved(t, r, uid, gid));

const fchownat: SyscallHandler = (t, [dirfd, path, uid, gid, flagsArg]) => {
  const flags = onlyFlags(int(flagsArg), AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH);
  return atPath(t, dirfd, path, lookupOpts(flags), (r) => chownResolved(t, r, uid, gid));
};

const fchown: SyscallHandler = (t, [fd, uid, gid]) => {
  const file = fileArg(t, fd);
  requireChangeable(t.kernel.vfs, file);
  return hostSyscall(HostNr.fchown, file.hostFd, uint(uid), uint(gid));
};

const TIMESPEC_PAIR = 32;

const utimensat: SyscallHandler = (t, [dirfd, pathAddr, timesAddr, flagsArg]) => {
  const flags = onlyFlags(int(flagsArg), AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH);
  const times = timesAddr ? t.mm.read(timesAddr, TIMESPEC_PAIR) : null;
  const timesArg = () => {
    if (!times) return 0;
    const b = scratch.bounce(TIMESPEC_PAIR);
    b.view.set(times);
    return b.address;
  };
  if (pathAddr === 0 && int(dirfd) !== AT.FDCWD) {
    // futimens: the descriptor itself.
    const file = fileArg(t, dirfd);
    requireChangeable(t.kernel.vfs, file);
    return hostSyscall(HostNr.utimensat, file.hostFd, 0, timesArg(), flags);
  }
  return atPath(t, dirfd, pathAddr, lookupOpts(flags), (r) =>
    callAt(changeable(t, r), (fd, name, f) => hostSyscall(HostNr.utimensat, fd, name, timesArg(), f)));
};

export const statSyscalls: SyscallEntry[] = [
  remote(sys(4, 'stat', stat, ['path', 'stat'])),
  remote(sys(5, 'fstat', fstat, ['fd', 'stat'])),
  remote(sys(6, 'lstat', lstat, ['path', 'stat'])),
  sys(21, 'access', access, ['path', 'accessmode']),
  sys(89, 'readlink', readlink, ['path', 'outbuf', 'size']),
  sys(90, 'chmod', chmod, ['path', 'mode']),
  sys(91, 'fchmod', fchmod, ['fd', 'mode']),
  sys(92, 'chown', chown, ['path', 'int', 'int']),
  sys(93, 'fchown', fchown, ['fd', 'int', 'int']),
  sys(94, 'lchown', lchown, ['path', 'int', 'int']),
  sys(137, 'statfs', statfs, ['path', 'ptr']),
  sys(138, 'fstatfs', fstatfs, ['fd', 'ptr']),
  sys(260, 'fchownat', fchownat, ['dirfd', 'path', 'int', 'int', 'atflags']),
  remote(sys(262, 'newfstatat', newfstatat, ['dirfd', 'path', 'stat', 'atflags'])),
  sys(267, 'readlinkat', readlinkat, ['dirfd', 'path', 'outbuf', 'size']),
  sys(268, 'fchmodat', fchmodat, ['dirfd', 'path', 'mode']),
  sys(269, 'faccessat', faccessat, ['dirfd', 'path', 'accessmode']),
  sys(280, 'utimensat', utimensat, ['dirfd', 'path', 'ptr', 'atflags']),
  remote(sys(332, 'statx', statx, ['dirfd', 'path', 'atflags', 'statxmask', 'ptr'])),
  sys(439, 'faccessat2', faccessat2, ['dirfd', 'path', 'accessmode', 'atflags']),
];
