// Directories and names: listing, the working directory, creating and removing entries,
// renaming and linking, and the umask. Creating and removing calls resolve only up to the
// parent directory and hand the host the parent's fd and the final name.
import { E, Errno } from './errno.js';
import type { OpenFile } from './files.js';
import { HostScratch, hostSyscall, HostNr, scratch } from './host/libc.js';
import { AT, atPath, fileResolved, nameArg, onlyFlags, readPath } from './path-args.js';
import { int, sys, uint, type SyscallEntry, type SyscallHandler } from './syscall.js';
import type { Thread } from './task.js';
import { check, HostNrExtra, modeAt, S } from './vfs/host.js';
import type { Mount } from './vfs/mounts.js';
import type { SynthNode } from './vfs/synthetic.js';
import { joinPath, parentPath } from './vfs/path.js';
import type { Resolved } from './vfs/vfs.js';

const PARENT = { follow: false, parent: true } as const;

// ---- listing ----

/** One record of getdents64 (linux_dirent64) or of the legacy getdents (linux_dirent). */
function direntRecord(ino: number, next: number, type: number, name: string, legacy: boolean): Uint8Array {
  const nameAt = legacy ? 18 : 19;
  const size = (nameAt + name.length + (legacy ? 2 : 1) + 7) & ~7;
  const rec = new Uint8Array(size);
  const v = new DataView(rec.buffer);
  v.setBigUint64(0, BigInt(ino), true);
  v.setBigInt64(8, BigInt(next), true);
  v.setUint16(16, size, true);
  for (let i = 0; i < name.length; i++) rec[nameAt + i] = name.charCodeAt(i);
  if (legacy) rec[size - 1] = type;
  else rec[18] = type;
  return rec;
}

function syntheticDents(t: Thread, file: OpenFile, buf: number, count: number, legacy: boolean): number {
  const entries = file.syntheticDir!;
  const vfs = t.kernel.vfs;
  const records: Uint8Array[] = [];
  let used = 0, pos = file.dirPosition;
  for (; pos < entries.length; pos++) {
    const { name, type } = entries[pos];
    const path = name === '.' ? file.guestPath : name === '..' ? parentPath(file.guestPath) : joinPath(file.guestPath, name);
    const rec = direntRecord(vfs.inodeOf(path), pos + 1, type, name, legacy);
    if (used + rec.length > count) break;
    records.push(rec);
    used += rec.length;
  }
  if (used === 0 && pos < entries.length) throw new Errno(E.EINVAL);
  const out = new Uint8Array(used);
  records.reduce((at, rec) => (out.set(rec, at), at + rec.length), 0);
  t.mm.write(buf, out);
  file.dirPosition = pos;
  return used;
}

function getdentsOf(t: Thread, fd: number, buf: number, countArg: number, legacy: boolean): number {
  const file = t.process.files.get(int(fd));
  const count = uint(countArg);
  if (file.syntheticDir) {
    if (file.dirPosition === 0) t.kernel.vfs.refreshDirectory(file);
    return syntheticDents(t, file, buf, count, legacy);
  }
  const size = Math.min(count, HostScratch.BOUNCE_SIZE);
  return t.mm.withHostBuffer(buf, size, 'write', (h) => hostSyscall(legacy ? HostNrExtra.getdents : HostNr.getdents64, file.hostFd, h, size));
}

const getdents64: SyscallHandler = (t, [fd, buf, count]) => getdentsOf(t, fd, buf, count, false);
const getdents: SyscallHandler = (t, [fd, buf, count]) => getdentsOf(t, fd, buf, count, true);

// ---- working directory ----

const getcwd: SyscallHandler = (t, [buf, size]) => {
  const cwd = t.process.fs.cwd;
  try {
    t.kernel.vfs.lookup(t, AT.FDCWD, '.', { follow: true }, () => 0);
  } catch (e) {
    // Linux answers ENOENT once the working directory has been removed.
    if (e instanceof Errno) throw new Errno(E.ENOENT);
    throw e;
  }
  const bytes = Buffer.from(`${cwd}\0`, 'latin1');
  if (uint(size) < bytes.length) throw new Errno(E.ERANGE);
  t.mm.write(buf, bytes);
  return bytes.length;
};

const chdir: SyscallHandler = (t, [path]) => {
  t.process.fs.cwd = t.kernel.vfs.resolveDirectory(t, readPath(t, path));
  return 0;
};

const fchdir: SyscallHandler = (t, [fd]) => {
  const file = t.process.files.get(int(fd));
  t.kernel.vfs.requireDirectory(fileResolved(file));
  t.process.fs.cwd = file.guestPath;
  return 0;
};

// ---- entries ----

type EntryOp = 'create' | 'unlink' | 'rmdir' | 'rename';

interface HostEntry {
  dirFd: number;
  name: string;
}

/** Linux's answer when the final component is `.`, `..`, `/` or a mount point. */
function notANameErrno(op: EntryOp, r: Resolved): number {
  switch (op) {
    case 'create': return E.EEXIST;
    case 'unlink': return E.EISDIR;
    case 'rename': return E.EBUSY;
    case 'rmdir': return r.last === 'dot' ? E.EINVAL : r.last === 'dotdot' ? E.ENOTEMPTY : E.EBUSY;
  }
}

/** Linux's answer for an entry in a synthetic directory, which cannot be changed. */
function syntheticErrno(op: EntryOp, node: SynthNode | undefined): number {
  // procfs answers a lookup of a missing name with ENOENT, before any create is tried.
  if (op === 'create') return node ? E.EEXIST : E.ENOENT;
  if (!node) return E.ENOENT;
  if (op === 'unlink' && node.kind === 'dir') return E.EISDIR;
  if (op === 'rmdir' && node.kind !== 'dir') return E.ENOTDIR;
  return E.EPERM;
}

/** The parent fd and name of an entry to create, remove or rename; EROFS on a read-only bind. */
function hostEntry(r: Resolved, op: EntryOp): HostEntry {
  if (r.last !== 'norm') throw new Errno(notANameErrno(op, r));
  const target = r.target;
  if (target.kind === 'synth') throw new Errno(syntheticErrno(op, target.node));
  if (target.kind !== 'host') throw new Errno(E.EPERM);
  if (target.mount.readOnly) {
    // EEXIST wins over EROFS when creating, as in Linux's filename_create.
    if (op === 'create' && modeAt(target.dirFd, target.name) >= 0) throw new Errno(E.EEXIST);
    throw new Errno(E.EROFS);
  }
  return { dirFd: target.dirFd, name: target.name };
}

function sameMount(a: Mount, b: Mount): void {
  if (a !== b) throw new Errno(E.EXDEV);
}

const umaskOf = (t: Thread) => t.process.fs.umask;

function mkdirAt(t: Thread, dirfd: number, path: number, mode: number): number {
  return makeDirectory(t, int(dirfd), readPath(t, path), mode);
}

/** mkdirat with the path as a string: also how the monitor creates directories it copies in. */
export function makeDirectory(t: Thread, dirfd: number, path: string, mode: number): number {
  return t.kernel.vfs.lookup(t, dirfd, path, PARENT, (r) => {
    const e = hostEntry(r, 'create');
    const perm = uint(mode) & 0o1777 & ~umaskOf(t);
    check(hostSyscall(HostNr.mkdirat, e.dirFd, nameArg(e.name, r), perm));
    t.kernel.vfs.applyCreatedMode(e.dirFd, e.name, perm);
    return 0;
  });
}

const mkdir: SyscallHandler = (t, [path, mode]) => mkdirAt(t, AT.FDCWD, path, mode);
const mkdirat: SyscallHandler = (t, [dirfd, path, mode]) => mkdirAt(t, dirfd, path, mode);

/** mknod for what a guest may make: regular files, FIFOs and socket files, never devices. */
function mknodAt(t: Thread, dirfd: number, path: number, modeArg: number): number {
  const mode = uint(modeArg);
  const type = mode & S.IFMT;
  if (type === S.IFCHR || type === S.IFBLK) throw new Errno(E.EPERM);
  if (type !== 0 && type !== S.IFREG && type !== S.IFIFO && type !== S.IFSOCK) throw new Errno(E.EINVAL);
  return atPath(t, dirfd, path, PARENT, (r) => {
    const e = hostEntry(r, 'create');
    const perm = mode & 0o7777 & ~umaskOf(t);
    check(hostSyscall(HostNrExtra.mknodat, e.dirFd, nameArg(e.name, r), (type || S.IFREG) | perm, 0));
    t.kernel.vfs.applyCreatedMode(e.dirFd, e.name, perm);
    return 0;
  });
}

const mknod: SyscallHandler = (t, [path, mode]) => mknodAt(t, AT.FDCWD, path, mode);
const mknodat: SyscallHandler = (t, [dirfd, path, mode]) => mknodAt(t, dirfd, path, mode);

function removeAt(t: Thread, dirfd: number, path: number, dir: boolean): number {
  return atPath(t, dirfd, path, PARENT, (r) => {
    const e = hostEntry(r, dir ? 'rmdir' : 'unlink');
    return hostSyscall(HostNr.unlinkat, e.dirFd, nameArg(e.name, r), dir ? AT.REMOVEDIR : 0);
  });
}

const rmdir: SyscallHandler = (t, [path]) => removeAt(t, AT.FDCWD, path, true);
const unlink: SyscallHandler = (t, [path]) => removeAt(t, AT.FDCWD, path, false);
const unlinkat: SyscallHandler = (t, [dirfd, path, flags]) =>
  removeAt(t, dirfd, path, (onlyFlags(int(flags), AT.REMOVEDIR) & AT.REMOVEDIR) !== 0);

function renameAt(t: Thread, oldDirfd: number, oldPath: number, newDirfd: number, newPath: number, flags: number): number {
  const vfs = t.kernel.vfs;
  const from = readPath(t, oldPath), to = readPath(t, newPath);
  return vfs.lookup(t, int(oldDirfd), from, PARENT, (a) => vfs.lookup(t, int(newDirfd), to, PARENT, (b) => {
    sameMount(vfs.mountOfTarget(a), vfs.mountOfTarget(b));
    const src = hostEntry(a, 'rename'), dst = hostEntry(b, 'rename');
    return hostSyscall(HostNr.renameat2, src.dirFd, nameArg(src.name, a, HostScratch.PATH_A), dst.dirFd, nameArg(dst.name, b, HostScratch.PATH_B), uint(flags));
  }));
}

const rename: SyscallHandler = (t, [oldPath, newPath]) => renameAt(t, AT.FDCWD, oldPath, AT.FDCWD, newPath, 0);
const renameat: SyscallHandler = (t, [oldDirfd, oldPath, newDirfd, newPath]) => renameAt(t, oldDirfd, oldPath, newDirfd, newPath, 0);
const renameat2: SyscallHandler = (t, [oldDirfd, oldPath, newDirfd, newPath, flags]) => renameAt(t, oldDirfd, oldPath, newDirfd, newPath, flags);

function linkAt(t: Thread, oldDirfd: number, oldPath: number, newDirfd: number, newPath: number, flagsArg: number): number {
  const flags = onlyFlags(int(flagsArg), AT.SYMLINK_FOLLOW | AT.EMPTY_PATH);
  const vfs = t.kernel.vfs;
  const from = readPath(t, oldPath), to = readPath(t, newPath);
  const fromOpts = { follow: (flags & AT.SYMLINK_FOLLOW) !== 0, emptyPath: (flags & AT.EMPTY_PATH) !== 0 };
  return vfs.lookup(t, int(oldDirfd), from, fromOpts, (a) => vfs.lookup(t, int(newDirfd), to, PARENT, (b) => {
    sameMount(vfs.mountOfTarget(a), vfs.mountOfTarget(b));
    const src = a.target;
    // A descriptor the VFS did not open names a host object outside the jail: never link it in.
    if (src.kind === 'file' && !vfs.isJailed(src.file)) throw new Errno(E.EXDEV);
    if (src.kind === 'synth') throw new Errno(src.node ? E.EPERM : E.ENOENT);
    if (src.kind === 'host' && src.name === '') throw new Errno(E.EPERM);
    const dst = hostEntry(b, 'create');
    const [fd, name] = src.kind === 'file' ? [src.file.hostFd, ''] : [src.dirFd, src.name];
    return hostSyscall(HostNr.linkat, fd, scratch.cString(HostScratch.PATH_A, name), dst.dirFd, nameArg(dst.name, b, HostScratch.PATH_B), name === '' ? AT.EMPTY_PATH : 0);
  }));
}

const link: SyscallHandler = (t, [oldPath, newPath]) => linkAt(t, AT.FDCWD, oldPath, AT.FDCWD, newPath, 0);
const linkat: SyscallHandler = (t, [oldDirfd, oldPath, newDirfd, newPath, flags]) => linkAt(t, oldDirfd, oldPath, newDirfd, newPath, flags);

function symlinkAt(t: Thread, targetAddr: number, dirfd: number, path: number): number {
  return makeSymlink(t, readPath(t, targetAddr), int(dirfd), readPath(t, path));
}

/** symlinkat with strings: also how the monitor creates symlinks it copies in. */
export function makeSymlink(t: Thread, target: string, dirfd: number, path: string): number {
  if (target === '') throw new Errno(E.ENOENT);
  return t.kernel.vfs.lookup(t, dirfd, path, PARENT, (r) => {
    const e = hostEntry(r, 'create');
    return hostSyscall(HostNr.symlinkat, scratch.cString(HostScratch.PATH_B, target), e.dirFd, nameArg(e.name, r));
  });
}

const symlink: SyscallHandler = (t, [target, path]) => symlinkAt(t, target, AT.FDCWD, path);
const symlinkat: SyscallHandler = (t, [target, dirfd, path]) => symlinkAt(t, target, dirfd, path);

const umask: SyscallHandler = (t, [mask]) => {
  const old = t.process.fs.umask;
  t.process.fs.umask = uint(mask) & 0o777;
  return old;
};

export const dirSyscalls: SyscallEntry[] = [
  sys(78, 'getdents', getdents, ['fd', 'ptr', 'size']),
  sys(79, 'getcwd', getcwd, ['ptr', 'size']),
  sys(80, 'chdir', chdir, ['path']),
  sys(81, 'fchdir', fchdir, ['fd']),
  sys(82, 'rename', rename, ['path', 'path']),
  sys(83, 'mkdir', mkdir, ['path', 'mode']),
  sys(84, 'rmdir', rmdir, ['path']),
  sys(86, 'link', link, ['path', 'path']),
  sys(87, 'unlink', unlink, ['path']),
  sys(88, 'symlink', symlink, ['str', 'path']),
  sys(95, 'umask', umask, ['mode']),
  sys(133, 'mknod', mknod, ['path', 'mode', 'hex']),
  sys(217, 'getdents64', getdents64, ['fd', 'ptr', 'size']),
  sys(258, 'mkdirat', mkdirat, ['dirfd', 'path', 'mode']),
  sys(259, 'mknodat', mknodat, ['dirfd', 'path', 'mode', 'hex']),
  sys(263, 'unlinkat', unlinkat, ['dirfd', 'path', 'atflags']),
  sys(264, 'renameat', renameat, ['dirfd', 'path', 'dirfd', 'path']),
  sys(265, 'linkat', linkat, ['dirfd', 'path', 'dirfd', 'path', 'atflags']),
  sys(266, 'symlinkat', symlinkat, ['str', 'dirfd', 'path']),
  sys(316, 'renameat2', renameat2, ['dirfd', 'path', 'dirfd', 'path', 'hex']),
];
