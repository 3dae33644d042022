// System information, identity and resource limits.
import { randomFillSync } from 'node:crypto';
import { E, Errno } from './errno.js';
import { int, remote, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';
import { RLIM_INFINITY, type Process, type RLimit, type Thread } from './task.js';
import { monotonicMs } from './sys-time.js';
import { hostSyscall, scratch } from './host/libc.js';

const UTS_FIELD = 65;
export const UNAME = {
  sysname: 'Linux', nodename: 'starling', release: '6.1.0-starling', version: '#1 SMP Starling',
  machine: 'x86_64', domainname: '(none)',
};

const uname: SyscallHandler = (t, [buf]) => {
  const out = new Uint8Array(UTS_FIELD * 6);
  Object.values(UNAME).forEach((v, i) => out.set(Buffer.from(v, 'latin1'), i * UTS_FIELD));
  t.mm.write(buf, out);
  return 0;
};

const sysinfo: SyscallHandler = (t, [buf]) => {
  const k = t.kernel;
  const out = new DataView(new ArrayBuffer(112));
  out.setBigInt64(0, BigInt(Math.floor((monotonicMs() - k.bootTimeMs) / 1000)), true);
  out.setBigUint64(32, BigInt(k.memBytes), true);
  out.setBigUint64(40, BigInt(Math.max(0, k.memBytes - k.pool.used * 65536)), true);
  out.setUint16(80, 1, true); // procs
  out.setUint32(104, 1, true); // mem_unit
  t.mm.write(buf, new Uint8Array(out.buffer));
  return 0;
};

const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
const getrandom: SyscallHandler = (t, [buf, len, flagsArg]) => {
  const flags = int(flagsArg);
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) || (flags & GRND_RANDOM && flags & GRND_INSECURE)) throw new Errno(E.EINVAL);
  const n = Math.min(len, 33554431);
  t.mm.write(buf, randomFillSync(new Uint8Array(n)));
  return n;
};

/** The guest runs as root: every id is 0. */
const zero: SyscallHandler = () => 0;

const getgroups: SyscallHandler = (_t, [size]) => (int(size) < 0 ? -E.EINVAL : 0);

const getresid: SyscallHandler = (t, [a, b, c]) => {
  for (const p of [a, b, c]) t.mm.writeU32(p, 0);
  return 0;
};

export const RLIMIT = { CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, RSS: 5, NPROC: 6, NOFILE: 7, MEMLOCK: 8, AS: 9, LOCKS: 10, SIGPENDING: 11, MSGQUEUE: 12, NICE: 13, RTPRIO: 14, RTTIME: 15 } as const;
const RLIM_NLIMITS = 16;
/** fs.nr_open: the ceiling for RLIMIT_NOFILE even for root. */
const NR_OPEN = 1048576;

/** Linux's defaults for a root process started from a shell. */
const DEFAULT_LIMITS: Record<number, RLimit> = {
  [RLIMIT.STACK]: { cur: 8 * 1024 * 1024, max: RLIM_INFINITY },
  [RLIMIT.CORE]: { cur: 0, max: RLIM_INFINITY },
  [RLIMIT.NPROC]: { cur: 94000, max: 94000 },
  [RLIMIT.NOFILE]: { cur: 1024, max: NR_OPEN },
  [RLIMIT.MEMLOCK]: { cur: 8 * 1024 * 1024, max: 8 * 1024 * 1024 },
  [RLIMIT.SIGPENDING]: { cur: 94000, max: 94000 },
  [RLIMIT.MSGQUEUE]: { cur: 819200, max: 819200 },
  [RLIMIT.NICE]: { cur: 0, max: 0 },
  [RLIMIT.RTPRIO]: { cur: 0, max: 0 },
};

export function getLimit(p: Process, resource: number): RLimit {
  return p.rlimits.get(resource) ?? DEFAULT_LIMITS[resource] ?? { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}

const U64_MAX = (1n << 64n) - 1n;
const toWire = (v: number) => (v === RLIM_INFINITY ? U64_MAX : BigInt(v));
const fromWire = (v: bigint) => (v >= 1n << 63n ? RLIM_INFINITY : Number(v));

function readLimit(t: Thread, addr: number): RLimit {
  const dv = new DataView(t.mm.read(addr, 16).buffer);
  return { cur: fromWire(dv.getBigUint64(0, true)), max: fromWire(dv.getBigUint64(8, true)) };
}

function writeLimit(t: Thread, addr: number, l: RLimit): void {
  const dv = new DataView(new ArrayBuffer(16));
  dv.setBigUint64(0, toWire(l.cur), true);
  dv.setBigUint64(8, toWire(l.max), true);
  t.mm.write(addr, new Uint8Array(dv.buffer));
}

function setLimit(p: Process, resource: number, l: RLimit): void {
  if (l.cur > l.max) throw new Errno(E.EINVAL);
  if (resource === RLIMIT.NOFILE) {
    if (l.max > NR_OPEN) throw new Errno(E.EPERM);
    p.files.limit = l.cur;
  }
  p.rlimits.set(resource, l);
}

const prlimit64: SyscallHandler = (t, [pid, resourceArg, newLimit, oldLimit]) => {
  const resource = int(resourceArg);
  if (resource < 0 || resource >= RLIM_NLIMITS) throw new Errno(E.EINVAL);
  if (int(pid) !== 0 && int(pid) !== t.process.pid) throw new Errno(E.ESRCH);
  const next = newLimit ? readLimit(t, newLimit) : null;
  const old = getLimit(t.process, resource);
  if (next) setLimit(t.process, resource, next);
  if (oldLimit) writeLimit(t, oldLimit, old);
  return 0;
};

const getrlimit: SyscallHandler = (t, [resource, addr]) => prlimit64(t, [0, resource, 0, addr, 0, 0]);
const setrlimit: SyscallHandler = (t, [resource, addr]) => prlimit64(t, [0, resource, addr, 0, 0, 0]);

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
const HOST_GETRUSAGE = 98;
const RUSAGE_SIZE = 144;

/**
 * CPU times are the host times of this vCPU's worker thread, which runs the guest thread (and
 * its kernel work) and nothing else; maxrss is the memory the process has touched.
 */
const getrusage: SyscallHandler = (t, [whoArg, usage]) => {
  const who = int(whoArg);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) throw new Errno(E.EINVAL);
  const out = new Uint8Array(RUSAGE_SIZE);
  if (who !== RUSAGE_CHILDREN) {
    const host = scratch.bounce(RUSAGE_SIZE);
    const r = hostSyscall(HOST_GETRUSAGE, RUSAGE_THREAD, host.address);
    if (r < 0) return r;
    out.set(host.view.subarray(0, 32)); // ru_utime, ru_stime
    new DataView(out.buffer).setBigInt64(32, BigInt(Math.ceil(t.mm.residentBytes / 1024)), true);
  }
  t.mm.write(usage, out);
  return 0;
};

export const infoSyscalls: SyscallEntry[] = [
  remote(sys(63, 'uname', uname, ['ptr'])),
  sys(99, 'sysinfo', sysinfo, ['ptr']),
  sys(318, 'getrandom', getrandom, ['ptr', 'size', 'hex']),
  remote(sys(102, 'getuid', zero)), remote(sys(104, 'getgid', zero)), remote(sys(107, 'geteuid', zero)), remote(sys(108, 'getegid', zero)),
  sys(115, 'getgroups', getgroups, ['int', 'ptr']),
  sys(118, 'getresuid', getresid, ['ptr', 'ptr', 'ptr']),
  sys(120, 'getresgid', getresid, ['ptr', 'ptr', 'ptr']),
  sys(97, 'getrlimit', getrlimit, ['rlimitres', 'ptr']),
  sys(160, 'setrlimit', setrlimit, ['rlimitres', 'ptr']),
  sys(98, 'getrusage', getrusage, ['int', 'ptr']),
  sys(302, 'prlimit64', prlimit64, ['int', 'rlimitres', 'ptr', 'ptr']),
];
