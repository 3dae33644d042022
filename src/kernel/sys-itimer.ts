// Interval timers: alarm, setitimer and getitimer on ITIMER_REAL, one timer per process on the
// monotonic timeline that sends SIGALRM. vCPU 0's loop fires them (fireRealTimers) and sleeps
// no longer than the next expiry (nextRealTimer). ITIMER_VIRTUAL and ITIMER_PROF count the
// process's own CPU time, which Starling does not account per process: they give EINVAL
// (docs/ARCHITECTURE.md, "Not implemented").
import { E, Errno } from './errno.js';
import { SIG, sendSignal } from './signals.js';
import { int, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';
import { monotonicMs } from './sys-time.js';
import type { Process, Thread } from './task.js';

const ITIMER_REAL = 0;
const SI_KERNEL = 0x80;
const ITIMERVAL_SIZE = 32;

/** The timer's value (ms left, 0 when disarmed) and its reload interval (ms). */
function current(p: Process, now: number): { valueMs: number; intervalMs: number } {
  const timer = p.realTimer;
  return timer ? { valueMs: Math.max(timer.deadline - now, 0.001), intervalMs: timer.intervalMs } : { valueMs: 0, intervalMs: 0 };
}

function arm(t: Thread, valueMs: number, intervalMs: number, now: number): void {
  t.process.realTimer = valueMs > 0 ? { deadline: now + valueMs, intervalMs } : null;
  t.kernel.scheduler.timersChanged();
}

/** struct itimerval: it_interval then it_value, each a struct timeval. */
function readItimerval(t: Thread, addr: number): { valueMs: number; intervalMs: number } {
  const v = new DataView(t.mm.read(addr, ITIMERVAL_SIZE).buffer);
  const ms = (at: number) => {
    const sec = Number(v.getBigInt64(at, true)), usec = Number(v.getBigInt64(at + 8, true));
    if (sec < 0 || usec < 0 || usec >= 1e6) throw new Errno(E.EINVAL);
    return sec * 1e3 + usec / 1e3;
  };
  return { intervalMs: ms(0), valueMs: ms(16) };
}

function writeItimerval(t: Thread, addr: number, { valueMs, intervalMs }: { valueMs: number; intervalMs: number }): void {
  const v = new DataView(new ArrayBuffer(ITIMERVAL_SIZE));
  const put = (at: number, ms: number) => {
    const usec = Math.ceil(ms * 1e3);
    v.setBigInt64(at, BigInt(Math.floor(usec / 1e6)), true);
    v.setBigInt64(at + 8, BigInt(usec % 1e6), true);
  };
  put(0, intervalMs);
  put(16, valueMs);
  t.mm.write(addr, new Uint8Array(v.buffer));
}

const getitimer: SyscallHandler = (t, [which, curr]) => {
  if (int(which) !== ITIMER_REAL) throw new Errno(E.EINVAL);
  writeItimerval(t, curr, current(t.process, monotonicMs()));
  return 0;
};

/** A NULL new value disarms the timer, as Linux still accepts. */
const setitimer: SyscallHandler = (t, [which, newP, oldP]) => {
  if (int(which) !== ITIMER_REAL) throw new Errno(E.EINVAL);
  const next = newP ? readItimerval(t, newP) : { valueMs: 0, intervalMs: 0 };
  const now = monotonicMs();
  if (oldP) writeItimerval(t, oldP, current(t.process, now));
  arm(t, next.valueMs, next.intervalMs, now);
  return 0;
};

/** Returns the seconds the previous alarm had left, rounded as Linux's alarm_setitimer does. */
const alarm: SyscallHandler = (t, [seconds]) => {
  const now = monotonicMs();
  const left = current(t.process, now).valueMs;
  arm(t, (seconds >>> 0) * 1e3, 0, now);
  let secs = Math.floor(left / 1e3);
  const usecs = Math.round((left % 1e3) * 1e3);
  if ((secs === 0 && usecs > 0) || usecs >= 500_000) secs++;
  return secs;
};

/** Sends SIGALRM to every process whose timer expired by now, and reloads or disarms it. */
export function fireRealTimers(processes: Iterable<Process>, now: number): void {
  for (const p of processes) {
    const timer = p.realTimer;
    if (!timer || timer.deadline > now || p.exitStatus !== null) continue;
    if (timer.intervalMs > 0) timer.deadline += Math.ceil((now - timer.deadline + 1e-9) / timer.intervalMs) * timer.intervalMs;
    else p.realTimer = null;
    sendSignal(p, null, { signo: SIG.ALRM, code: SI_KERNEL });
  }
}

/** The earliest expiry among processes (monotonic ms), or Infinity. */
export function nextRealTimer(processes: Iterable<Process>): number {
  let next = Infinity;
  for (const p of processes) if (p.realTimer && p.exitStatus === null) next = Math.min(next, p.realTimer.deadline);
  return next;
}

export const itimerSyscalls: SyscallEntry[] = [
  sys(36, 'getitimer', getitimer, ['int', 'ptr']),
  sys(37, 'alarm', alarm, ['uint']),
  sys(38, 'setitimer', setitimer, ['int', 'ptr', 'ptr']),
];
