// Clocks and sleeping. Clock reads go to the host's clocks, written straight into guest memory.
import { E, Errno } from './errno.js';
import { hostSyscall } from './host/libc.js';
import { block, int, remote, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Thread } from './task.js';

const HOST_CLOCK_GETTIME = 228, HOST_CLOCK_GETRES = 229, HOST_GETTIMEOFDAY = 96;
export const CLOCK = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3, BOOTTIME: 7, REALTIME_ALARM: 8, BOOTTIME_ALARM: 9, TAI: 11 } as const;
const TIMER_ABSTIME = 1;

/** Milliseconds on the host's CLOCK_MONOTONIC: the same timeline in every worker. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const clockGettime: SyscallHandler = (t, [clock, tp]) =>
  tp ? t.mm.withHostBuffer(tp, 16, 'write', (host) => hostSyscall(HOST_CLOCK_GETTIME, int(clock), host)) : -E.EFAULT;

const clockGetres: SyscallHandler = (t, [clock, res]) =>
  res ? t.mm.withHostBuffer(res, 16, 'write', (host) => hostSyscall(HOST_CLOCK_GETRES, int(clock), host)) : hostSyscall(HOST_CLOCK_GETRES, int(clock), 0);

const gettimeofday: SyscallHandler = (t, [tv, tz]) => {
  if (tz) t.mm.write(tz, new Uint8Array(8));
  return tv ? t.mm.withHostBuffer(tv, 16, 'write', (host) => hostSyscall(HOST_GETTIMEOFDAY, host, 0)) : 0;
};

const time: SyscallHandler = (t, [tloc]) => {
  const now = Math.floor(Date.now() / 1000);
  if (tloc) t.mm.writeU64(tloc, now);
  return now;
};

/** Reads a struct timespec; EINVAL when it is not a valid duration or instant. */
export function readTimespec(t: Thread, addr: number): { sec: number; nsec: number } {
  const sec = t.mm.readI64(addr), nsec = t.mm.readI64(addr + 8);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw new Errno(E.EINVAL);
  return { sec, nsec };
}

/** Writes a duration in milliseconds as a struct timespec. */
export function writeTimespec(t: Thread, addr: number, ms: number): void {
  const ts = new DataView(new ArrayBuffer(16));
  ts.setBigInt64(0, BigInt(Math.floor(ms / 1e3)), true);
  ts.setBigInt64(8, BigInt(Math.min(999_999_999, Math.round((ms % 1e3) * 1e6))), true);
  t.mm.write(addr, new Uint8Array(ts.buffer));
}

function clockNowMs(clock: number): number {
  if (clock === CLOCK.REALTIME || clock === CLOCK.TAI) return Date.now();
  return monotonicMs();
}

/**
 * Sleeps until deadline. A signal handler ends the sleep with EINTR, and then a relative sleep
 * stores the time it had left in rem (when rem is not NULL), as Linux does.
 */
function sleepUntil(t: Thread, deadline: number, rem: number): SyscallResult {
  if (monotonicMs() >= deadline) return 0;
  return block({ kind: 'sleep', deadline }, () => 0, {
    interrupted: () => {
      if (rem) writeTimespec(t, rem, Math.max(0, deadline - monotonicMs()));
      return -E.EINTR;
    },
  });
}

const nanosleep: SyscallHandler = (t, [req, rem]) => {
  const { sec, nsec } = readTimespec(t, req);
  return sleepUntil(t, monotonicMs() + sec * 1e3 + nsec / 1e6, rem);
};

const SLEEP_CLOCKS = new Set<number>([CLOCK.REALTIME, CLOCK.MONOTONIC, CLOCK.BOOTTIME, CLOCK.TAI, CLOCK.PROCESS_CPUTIME_ID]);

const clockNanosleep: SyscallHandler = (t, [clockArg, flags, req, rem]) => {
  const clock = int(clockArg);
  if (!SLEEP_CLOCKS.has(clock)) return -E.EINVAL; // CLOCK_THREAD_CPUTIME_ID included, as on Linux
  const { sec, nsec } = readTimespec(t, req);
  const ms = sec * 1e3 + nsec / 1e6;
  const absolute = (int(flags) & TIMER_ABSTIME) !== 0;
  const deadline = absolute ? monotonicMs() + (ms - clockNowMs(clock)) : monotonicMs() + ms;
  return sleepUntil(t, deadline, absolute ? 0 : rem);
};

export const timeSyscalls: SyscallEntry[] = [
  sys(35, 'nanosleep', nanosleep, ['timespec', 'ptr']),
  remote(sys(96, 'gettimeofday', gettimeofday, ['ptr', 'ptr'])),
  remote(sys(201, 'time', time, ['ptr'])),
  remote(sys(228, 'clock_gettime', clockGettime, ['clockid', 'ptr'])),
  remote(sys(229, 'clock_getres', clockGetres, ['clockid', 'ptr'])),
  sys(230, 'clock_nanosleep', clockNanosleep, ['clockid', 'int', 'timespec', 'ptr']),
];
