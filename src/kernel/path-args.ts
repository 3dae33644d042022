// Shared by the filesystem syscall families: reading path arguments from the guest and
// turning a resolved path into host *at() arguments.
import { E, Errno } from './errno.js';
import { HostScratch, scratch } from './host/libc.js';
import { int } from './syscall.js';
import type { Thread } from './task.js';
import { PATH_MAX } from './vfs/path.js';
import type { AtRef, LookupOptions, Resolved } from './vfs/vfs.js';

export { AT } from './vfs/host.js';
export { fileResolved } from './vfs/vfs.js';

/** A path argument: ENAMETOOLONG at PATH_MAX bytes with the NUL, EFAULT for a bad pointer. */
export function readPath(t: Thread, addr: number): string {
  return t.mm.readCString(addr, PATH_MAX - 1);
}

/** Reads the path at pathAddr and resolves it relative to dirfd (a C int) for fn. */
export function atPath<T>(t: Thread, dirfd: number, pathAddr: number, opts: LookupOptions, fn: (r: Resolved) => T): T {
  return t.kernel.vfs.lookup(t, int(dirfd), readPath(t, pathAddr), opts, fn);
}

/** Calls a host *at() syscall on ref, the name passed in scratch region (PATH_A or PATH_B). */
export function callAt(ref: AtRef, call: (fd: number, name: number, flags: number) => number, region = HostScratch.PATH_A): number {
  return call(ref.fd, scratch.cString(region, ref.name), ref.flags);
}

/** A name in a directory fd, for the creating and removing calls (with the trailing slash kept). */
export function nameArg(dirName: string, r: Resolved, region = HostScratch.PATH_A): number {
  return scratch.cString(region, r.trailingSlash ? `${dirName}/` : dirName);
}

/** Rejects flag bits outside allowed with EINVAL. */
export function onlyFlags(flags: number, allowed: number): number {
  if (flags & ~allowed) throw new Errno(E.EINVAL);
  return flags;
}
