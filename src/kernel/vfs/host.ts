// Host-side primitives the VFS builds on: constants shared with the syscall files, errno
// checking, and a private scratch area so a path walk never clobbers the shared bounce
// buffer a syscall handler may be holding data in.
import { Errno } from '../errno.js';
import { addressOf, hostSyscall, HostNr } from '../host/libc.js';

export const AT = {
  FDCWD: -100, SYMLINK_NOFOLLOW: 0x100, REMOVEDIR: 0x200, EACCESS: 0x200, SYMLINK_FOLLOW: 0x400,
  NO_AUTOMOUNT: 0x800, EMPTY_PATH: 0x1000, STATX_SYNC_TYPE: 0x6000,
} as const;

export const S = {
  IFMT: 0o170000, IFSOCK: 0o140000, IFLNK: 0o120000, IFREG: 0o100000, IFBLK: 0o060000,
  IFDIR: 0o040000, IFCHR: 0o020000, IFIFO: 0o010000,
} as const;

/** d_type values of getdents. */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

export const X_OK = 1, W_OK = 2, R_OK = 4;

/** Host syscalls the VFS needs that libc.ts does not name. */
export const HostNrExtra = { getdents: 78, flock: 73, mknodat: 259, memfd_create: 319, preadv: 295, pwritev: 296, sendmsg: 46, recvmsg: 47 } as const;

/** Returns r, or throws its errno (host calls return -errno). */
export function check(r: number): number {
  if (r < 0) throw new Errno(-r);
  return r;
}

export function closeFd(fd: number): void {
  hostSyscall(HostNr.close, fd);
}

/**
 * A scratch area owned by the VFS: a C string (a component, or a host path below PATH_MAX),
 * a stat buffer and a readlink buffer (PATH_MAX).
 */
const AREA = new Uint8Array(new SharedArrayBuffer(3 * 4096));
const AREA_ADDRESS = addressOf(AREA.buffer as SharedArrayBuffer);
const NAME_AT = 0, STAT_AT = 4096, LINK_AT = 8192;

/** Host address of a C string in the VFS's own scratch: a component, or a host path below PATH_MAX. */
export function cName(name: string): number {
  const n = name.length;
  if (n >= 4096) throw new RangeError('name too long');
  for (let i = 0; i < n; i++) AREA[NAME_AT + i] = name.charCodeAt(i);
  AREA[NAME_AT + n] = 0;
  return AREA_ADDRESS + NAME_AT;
}

/** st_mode of an open host fd (O_PATH fds included). */
export function fdMode(fd: number): number {
  check(hostSyscall(HostNr.fstat, fd, AREA_ADDRESS + STAT_AT));
  return new DataView(AREA.buffer, STAT_AT + 24, 4).getUint32(0, true);
}

/** st_rdev of an open host fd (which terminal a tty fd is). */
export function fdRdev(fd: number): number {
  check(hostSyscall(HostNr.fstat, fd, AREA_ADDRESS + STAT_AT));
  return Number(new DataView(AREA.buffer, STAT_AT + 40, 8).getBigUint64(0, true));
}

/** st_mode of dirFd/name without following a final symlink; -errno when it fails. */
export function modeAt(dirFd: number, name: string): number {
  const flags = AT.SYMLINK_NOFOLLOW | (name === '' ? AT.EMPTY_PATH : 0);
  const r = hostSyscall(HostNr.newfstatat, dirFd, cName(name), AREA_ADDRESS + STAT_AT, flags);
  return r < 0 ? r : new DataView(AREA.buffer, STAT_AT + 24, 4).getUint32(0, true);
}

/** The target of the symlink dirFd/name as a byte string, or -errno (EINVAL: not a symlink). */
export function readLinkAt(dirFd: number, name: string): string | number {
  const r = hostSyscall(HostNr.readlinkat, dirFd, cName(name), AREA_ADDRESS + LINK_AT, 4096);
  if (r < 0) return r;
  let s = '';
  for (let i = 0; i < r; i++) s += String.fromCharCode(AREA[LINK_AT + i]);
  return s;
}

/** Path of an open host fd through the host's /proc, for calls that have no *at form. */
export const procFdPath = (fd: number) => `/proc/self/fd/${fd}`;
