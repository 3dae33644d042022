// The host kernel, reached through libc's syscall(2) by koffi. Guest files, directories and
// devices are host file descriptors; pointers passed here are host addresses (pool bytes or
// the per-worker scratch buffers), never guest addresses.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');
// syscall(2) is variadic in C, but glibc's implementation only moves registers, so a fixed
// six-argument prototype calls it correctly and avoids koffi's slower variadic path.
const syscall6 = libc.func('long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)');

/** Host syscall numbers used by the kernel (x86-64). */
export const HostNr = {
  read: 0, write: 1, close: 3, fstat: 5, poll: 7, lseek: 8, pread64: 17, pwrite64: 18,
  readv: 19, writev: 20, dup: 32, fcntl: 72, ftruncate: 77, fsync: 74, fdatasync: 75,
  getdents64: 217, openat: 257, mkdirat: 258, fchownat: 260, newfstatat: 262, unlinkat: 263,
  renameat2: 316, linkat: 265, symlinkat: 266, readlinkat: 267, fchmodat: 268, faccessat2: 439,
  utimensat: 280, statx: 332, ioctl: 16, fchmod: 91, fchown: 93, statfs: 137, fstatfs: 138,
  getrandom: 318, ppoll: 271, sendfile: 40, copy_file_range: 326, fallocate: 285,
} as const;

/** Calls a host syscall; returns the result, or -errno on failure (the kernel's convention). */
export function hostSyscall(nr: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0): number {
  const r = Number(syscall6(nr, a1, a2, a3, a4, a5, a6));
  return r === -1 ? -koffi.errno() : r;
}

/** Scratch memory of this worker with a stable host address: paths, bounce buffers, structs. */
export class HostScratch {
  readonly bytes: Uint8Array;
  readonly address: number;
  static readonly PATH_MAX = 4096;
  /** Offsets of the regions: two paths, then a bounce buffer for everything else. */
  static readonly PATH_A = 0;
  static readonly PATH_B = 4096;
  static readonly BOUNCE = 8192;
  static readonly BOUNCE_SIZE = 1 << 20;

  constructor() {
    this.bytes = new Uint8Array(new SharedArrayBuffer(HostScratch.BOUNCE + HostScratch.BOUNCE_SIZE));
    this.address = Number(koffi.address(this.bytes));
  }

  /** Writes a byte string (latin1: one char per byte) as a C string; returns its host address. */
  cString(region: number, path: string): number {
    const n = path.length;
    if (n >= HostScratch.PATH_MAX) throw new RangeError('path too long');
    for (let i = 0; i < n; i++) this.bytes[region + i] = path.charCodeAt(i);
    this.bytes[region + n] = 0;
    return this.address + region;
  }

  bounce(size: number): { address: number; view: Uint8Array } {
    if (size > HostScratch.BOUNCE_SIZE) throw new RangeError('bounce too large');
    return { address: this.address + HostScratch.BOUNCE, view: this.bytes.subarray(HostScratch.BOUNCE, HostScratch.BOUNCE + size) };
  }
}

export const scratch = new HostScratch();

/** Host address of the start of a SharedArrayBuffer (stable for its lifetime, also after grow). */
export function addressOf(sab: SharedArrayBuffer): number {
  return Number(koffi.address(new Uint8Array(sab)));
}

/** Decodes bytes as a byte string (latin1), the kernel's representation of paths. */
export function byteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Host paths from the command line are UTF-8; the kernel works in byte strings. */
export function hostPathToBytes(path: string): string {
  return Buffer.from(path, 'utf8').toString('latin1');
}
