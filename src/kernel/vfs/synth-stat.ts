// struct stat, struct statx and struct statfs for objects that have no host inode (synthetic
// nodes). Host objects are never described here: their host structs are the guest's.
import { S } from './host.js';

export interface StatInfo {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  /** Seconds since the epoch for atime, mtime and ctime. */
  time: number;
}

/** Linux's new_encode_dev for st_dev. */
export const encodeDev = (major: number, minor: number) => (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);

/** x86-64 struct stat (144 bytes). */
export function encodeStat(s: StatInfo): Uint8Array {
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(s.dev), true);
  v.setBigUint64(8, BigInt(s.ino), true);
  v.setBigUint64(16, BigInt(s.nlink), true);
  v.setUint32(24, s.mode, true);
  v.setBigInt64(48, BigInt(s.size), true);
  v.setBigInt64(56, 1024n, true);
  for (const off of [72, 88, 104]) v.setBigInt64(off, BigInt(s.time), true);
  return b;
}

export const STATX_BASIC_STATS = 0x7ff;

/** struct statx (256 bytes) with the basic fields. */
export function encodeStatx(s: StatInfo): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  v.setUint32(0, STATX_BASIC_STATS, true);
  v.setUint32(4, 1024, true);
  v.setUint32(16, s.nlink, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, BigInt(s.ino), true);
  v.setBigUint64(40, BigInt(s.size), true);
  for (const off of [64, 96, 112]) v.setBigInt64(off, BigInt(s.time), true);
  v.setUint32(136, (s.dev >> 8) & 0xfff, true);
  v.setUint32(140, (s.dev & 0xff) | ((s.dev >> 12) & ~0xff), true);
  return b;
}

/** Filesystem magic numbers for statfs's f_type. */
export const FS_MAGIC = { proc: 0x9fa0, sysfs: 0x62656572, tmpfs: 0x01021994 } as const;
export const ST_RDONLY = 1;

/** x86-64 struct statfs (120 bytes) for a synthetic filesystem. */
export function encodeStatfs(magic: number, readOnly: boolean): Uint8Array {
  const b = new Uint8Array(120);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(magic), true);
  v.setBigInt64(8, 4096n, true);
  v.setBigInt64(64, 255n, true);
  v.setBigInt64(72, 4096n, true);
  v.setBigInt64(80, BigInt(readOnly ? ST_RDONLY : 0), true);
  return b;
}

export const isDir = (mode: number) => (mode & S.IFMT) === S.IFDIR;
export const isReg = (mode: number) => (mode & S.IFMT) === S.IFREG;
export const isLnk = (mode: number) => (mode & S.IFMT) === S.IFLNK;
