// Memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync, mlock.
import { Prot } from '../cpu-worker/backend.js';
import { E, Errno } from './errno.js';
import { hostSyscall, HostNr } from './host/libc.js';
import { MappedFile, pageUp, USER_END } from './mm/address-space.js';
import { PAGE_SIZE } from '../shared-mem/layout.js';
import { sys, int, type SyscallEntry, type SyscallHandler } from './syscall.js';
import type { Thread } from './task.js';
import { fileType } from './fd-io.js';
import { S } from './vfs/host.js';

const MAP = {
  SHARED: 0x01, PRIVATE: 0x02, SHARED_VALIDATE: 0x03, TYPE: 0x0f, FIXED: 0x10, ANONYMOUS: 0x20,
  GROWSDOWN: 0x100, DENYWRITE: 0x800, EXECUTABLE: 0x1000, LOCKED: 0x2000, NORESERVE: 0x4000,
  POPULATE: 0x8000, NONBLOCK: 0x10000, STACK: 0x20000, HUGETLB: 0x40000, SYNC: 0x80000,
  FIXED_NOREPLACE: 0x100000,
} as const;
const KNOWN_MAP_FLAGS = 0x1fff7f;
const PROT_MASK = Prot.READ | Prot.WRITE | Prot.EXEC;
const aligned = (a: number) => a % PAGE_SIZE === 0;

/** The length argument of a mapping call: 0 and lengths that overflow user space are EINVAL. */
function mappingLength(len: number): number {
  if (len <= 0 || len > USER_END) throw new Errno(E.EINVAL);
  return pageUp(len);
}

const mmap: SyscallHandler = (t, [addr, length, protArg, flagsArg, fdArg, offset]) => {
  const prot = int(protArg), flags = int(flagsArg), fd = int(fdArg);
  const type = flags & MAP.TYPE;
  if (type !== MAP.SHARED && type !== MAP.PRIVATE && type !== MAP.SHARED_VALIDATE) throw new Errno(E.EINVAL);
  if (type === MAP.SHARED_VALIDATE && flags & ~KNOWN_MAP_FLAGS) throw new Errno(E.EOPNOTSUPP);
  if (prot & ~PROT_MASK || !aligned(offset) || offset < 0) throw new Errno(E.EINVAL);
  const len = mappingLength(length);
  const fixed = (flags & (MAP.FIXED | MAP.FIXED_NOREPLACE)) !== 0;
  if (fixed && (!aligned(addr) || addr + len > USER_END)) throw new Errno(E.EINVAL);
  const shared = type !== MAP.PRIVATE;
  let file: MappedFile | null = null;
  if (!(flags & MAP.ANONYMOUS)) {
    const of = t.process.files.get(fd);
    const type = fileType(of);
    // /dev/zero maps as anonymous memory; only regular files have pages to map.
    if (type === S.IFCHR && of.guestPath === '/dev/zero') return mmap(t, [addr, length, protArg, flagsArg | MAP.ANONYMOUS, -1, 0]);
    if (type !== S.IFREG) throw new Errno(E.ENODEV);
    if (!of.readable || (shared && prot & Prot.WRITE && !of.writable)) throw new Errno(E.EACCES);
    const dup = hostSyscall(HostNr.dup, of.hostFd);
    if (dup < 0) throw new Errno(-dup);
    file = new MappedFile(dup, of.guestPath);
  }
  const mm = t.mm;
  if (flags & MAP.FIXED_NOREPLACE && mm.regions.some((v) => v.start < addr + len && v.end > addr)) {
    file?.ref().unref();
    throw new Errno(E.EEXIST);
  }
  let start: number;
  try {
    start = fixed ? addr : mm.findFree(len, aligned(addr) ? addr : 0);
  } catch (e) {
    file?.ref().unref();
    throw e;
  }
  mm.map({ start, end: start + len, prot, shared, file, fileOffset: offset, label: '' });
  return start;
};

const munmap: SyscallHandler = (t, [addr, length]) => {
  if (!aligned(addr)) throw new Errno(E.EINVAL);
  t.mm.unmap(addr, mappingLength(length));
  return 0;
};

const mprotect: SyscallHandler = (t, [addr, length, protArg]) => {
  const prot = int(protArg);
  if (!aligned(addr) || prot & ~(PROT_MASK | 0x01000000 | 0x02000000)) throw new Errno(E.EINVAL);
  if (length === 0) return 0;
  t.mm.protect(addr, mappingLength(length), prot & PROT_MASK);
  return 0;
};

/** brk never fails with an error: it returns the old break when it cannot move. */
const brk: SyscallHandler = (t, [requested]) => {
  const mm = t.mm;
  if (requested < mm.brkStart) return mm.brk;
  const oldTop = pageUp(mm.brk), newTop = pageUp(requested);
  if (newTop > oldTop) {
    if (mm.regions.some((v) => v.start < newTop && v.end > oldTop)) return mm.brk;
    try {
      mm.map({ start: oldTop, end: newTop, prot: Prot.READ | Prot.WRITE, shared: false, file: null, fileOffset: 0, label: '[heap]' });
    } catch {
      return mm.brk;
    }
  } else if (newTop < oldTop) {
    mm.unmap(newTop, oldTop - newTop);
  }
  mm.brk = requested;
  return mm.brk;
};

const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;

const mremap: SyscallHandler = (t, [oldAddr, oldLength, newLength, flagsArg, newAddr]) => {
  const flags = int(flagsArg);
  if (!aligned(oldAddr) || flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_DONTUNMAP) throw new Errno(E.EINVAL);
  const mm = t.mm;
  const oldLen = pageUp(oldLength), newLen = mappingLength(newLength);
  const vma = mm.findVma(oldAddr);
  if (!vma || oldAddr + oldLen > vma.end) throw new Errno(E.EFAULT);
  if (flags & MREMAP_FIXED) {
    if (!aligned(newAddr) || newAddr + newLen > USER_END || (newAddr < oldAddr + oldLen && newAddr + newLen > oldAddr)) throw new Errno(E.EINVAL);
    mm.relocate(oldAddr, oldLen, newAddr, newLen);
    return newAddr;
  }
  if (newLen <= oldLen) {
    if (newLen < oldLen) mm.unmap(oldAddr + newLen, oldLen - newLen);
    return oldAddr;
  }
  const growEnd = oldAddr + newLen;
  if (growEnd <= USER_END && mm.isFree(oldAddr + oldLen, growEnd)) {
    mm.relocate(oldAddr, oldLen, oldAddr, newLen);
    return oldAddr;
  }
  if (!(flags & MREMAP_MAYMOVE)) throw new Errno(E.ENOMEM);
  const target = mm.findFree(newLen);
  mm.relocate(oldAddr, oldLen, target, newLen);
  return target;
};

const MADV = { NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, FREE: 8, REMOVE: 9 } as const;
/** Advice that only tunes paging, which the pool does not do: accepted, as Linux accepts it. */
const HINT_ADVICE = new Set([0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21]);

const madvise: SyscallHandler = (t, [addr, length, adviceArg]) => {
  const advice = int(adviceArg);
  if (!aligned(addr)) throw new Errno(E.EINVAL);
  if (length === 0) return 0;
  const end = addr + pageUp(length);
  if (!HINT_ADVICE.has(advice) && advice !== MADV.DONTNEED && advice !== MADV.FREE && advice !== MADV.REMOVE) throw new Errno(E.EINVAL);
  t.mm.requireMapped(addr, end);
  if (advice === MADV.DONTNEED || advice === MADV.FREE) t.mm.discard(addr, end);
  if (advice === MADV.REMOVE) throw new Errno(E.EINVAL);
  return 0;
};

/** The pool never pages out and private mappings have nothing to write back. */
const msync: SyscallHandler = (t, [addr, length, flags]) => {
  if (!aligned(addr) || int(flags) & ~7 || (int(flags) & 5) === 5) throw new Errno(E.EINVAL);
  t.mm.requireMapped(addr, addr + pageUp(length));
  return 0;
};

const mlock: SyscallHandler = (t, [addr, length]) => {
  t.mm.requireMapped(addr - (addr % PAGE_SIZE), addr + length);
  return 0;
};

const MPOL_DEFAULT = 0;
const MPOL_F_NODE = 1, MPOL_F_ADDR = 2, MPOL_F_MEMS_ALLOWED = 4;

const MPOL_MAX = 6, MPOL_MODE_FLAGS = (1 << 15) | (1 << 14) | (1 << 13);
const NEEDS_NODES = new Set([2, 3, 5]); // BIND, INTERLEAVE, PREFERRED_MANY

/** One NUMA node (node 0) holds all guest memory: any valid policy places pages there. */
const setMempolicy: SyscallHandler = (t, [modeArg, nodemaskP, maxnode]) => {
  const mode = int(modeArg) & ~MPOL_MODE_FLAGS;
  if (mode < 0 || mode >= MPOL_MAX) throw new Errno(E.EINVAL);
  const first = nodemaskP && maxnode > 0 ? t.mm.read(nodemaskP, 1)[0] : 0;
  if ((mode === MPOL_DEFAULT || mode === 4) && first) throw new Errno(E.EINVAL);
  if (NEEDS_NODES.has(mode) && !(first & 1)) throw new Errno(E.EINVAL);
  t.memoryPolicy = mode;
  return 0;
};

/** The calling thread's policy (see set_mempolicy); node 0 for every address. */
const getMempolicy: SyscallHandler = (t, [modeP, nodemaskP, maxnode, addr, flagsArg]) => {
  const flags = int(flagsArg);
  if (flags & ~(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) throw new Errno(E.EINVAL);
  if (flags & MPOL_F_MEMS_ALLOWED && flags & (MPOL_F_NODE | MPOL_F_ADDR)) throw new Errno(E.EINVAL);
  if (nodemaskP && maxnode < 1) throw new Errno(E.EINVAL);
  if (flags & MPOL_F_ADDR && !t.mm.findVma(addr)) throw new Errno(E.EFAULT);
  if (modeP) t.mm.writeU32(modeP, flags & MPOL_F_NODE ? 0 : t.memoryPolicy);
  if (nodemaskP) {
    const mask = new Uint8Array(Math.ceil(maxnode / 64) * 8);
    if (flags & MPOL_F_MEMS_ALLOWED) mask[0] = 1;
    t.mm.write(nodemaskP, mask);
  }
  return 0;
};

export const mmSyscalls: SyscallEntry[] = [
  sys(9, 'mmap', mmap, ['ptr', 'size', 'prot', 'mapflags', 'fd', 'hex'], 'hex'),
  sys(10, 'mprotect', mprotect, ['ptr', 'size', 'prot']),
  sys(11, 'munmap', munmap, ['ptr', 'size']),
  sys(12, 'brk', brk, ['ptr'], 'hex'),
  sys(25, 'mremap', mremap, ['ptr', 'size', 'size', 'hex', 'ptr'], 'hex'),
  sys(26, 'msync', msync, ['ptr', 'size', 'hex']),
  sys(28, 'madvise', madvise, ['ptr', 'size', 'int']),
  sys(149, 'mlock', mlock, ['ptr', 'size']),
  sys(150, 'munlock', mlock, ['ptr', 'size']),
  sys(238, 'set_mempolicy', setMempolicy, ['int', 'ptr', 'uint']),
  sys(239, 'get_mempolicy', getMempolicy, ['ptr', 'ptr', 'uint', 'ptr', 'hex']),
];
