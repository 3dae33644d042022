// Micro cases: one kernel or engine path each, timed by the guest program around its loop.
import type { Case } from '../case.js';
import { cpuShare, printedFigure, wallTime } from './kinds.js';

const loopTimed = 'timed by the guest around its loop (start-up excluded)';
const steadyState = "user+system time of the runner's process between the guest's begin and end lines, over that wall time (start-up and exit excluded)";

export function microCases(): Case[] {
  const cases: Omit<Case, 'group'>[] = [
    { name: 'getppid round trip', unit: 'ns/call', lowerIsBetter: true, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/getppid_loop', ws.size('1000000', '100000')] })) },
    { name: 'getppid round trip from CPU 1', unit: 'ns/call', lowerIsBetter: true, method: `${loopTimed}; the thread is pinned to CPU 1`,
      measure: printedFigure((ws) => ({ argv: ['/bench/getppid_loop', ws.size('100000', '10000'), '1'] })) },
    { name: 'futex ping-pong between 2 threads', unit: 'us/round trip', lowerIsBetter: true, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/futex_pingpong', ws.size('20000', '1000')] })) },
    { name: 'futex ping-pong, threads on CPUs 0 and 1', unit: 'us/round trip', lowerIsBetter: true, method: `${loopTimed}; threads pinned to CPUs 0 and 1`,
      measure: printedFigure((ws) => ({ argv: ['/bench/futex_pingpong', ws.size('5000', '500'), 'pin'] })) },
    { name: 'futex wake-to-run latency, CPU 0 to an idle CPU 1 (p50)', unit: 'us', lowerIsBetter: true,
      method: 'timed by the guest: the clock read before FUTEX_WAKE on CPU 0 to the one after FUTEX_WAIT returns on CPU 1, median of the rounds; the waiter has been blocked 300 us',
      measure: printedFigure((ws) => ({ argv: ['/bench/futex_wake_latency', ws.size('2000', '100')] })) },
    { name: 'context switch (2 processes on CPU 0, pipe ping-pong)', unit: 'us/switch', lowerIsBetter: true, method: `${loopTimed}; half a round trip`,
      measure: printedFigure((ws) => ({ argv: ['/bench/ctx_switch', ws.size('10000', '500')] })) },
    { name: 'thread create + join', unit: 'us/thread', lowerIsBetter: true, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/thread_create', ws.size('2000', '100')] })) },
    { name: 'fork + exec + wait (static true)', unit: 'us', lowerIsBetter: true, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/fork_exec', '/bench/true', ws.size('100', '5')] })) },
    { name: 'mmap + touch + munmap of 256 KiB', unit: 'us', lowerIsBetter: true, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/mmap_churn', ws.size('5000', '200')] })) },
    { name: 'pipe throughput (64 KiB writes, 2 processes)', unit: 'MB/s', lowerIsBetter: false, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/pipe_throughput', ws.size('512', '16')] })) },
    { name: 'memcpy 4 MiB blocks', unit: 'MB/s', lowerIsBetter: false, method: loopTimed,
      measure: printedFigure((ws) => ({ argv: ['/bench/memcpy_loop', ws.size('64', '8')] })) },
    { name: 'dynamic hello (start-up)', unit: 'ms', lowerIsBetter: true, method: 'wall time of the whole command',
      measure: wallTime(() => ({ argv: ['/bench/hello'] })) },
    { name: 'usleep(500) loop, 2 s: host CPU', unit: '% of a core', lowerIsBetter: true, method: steadyState,
      measure: cpuShare(() => ({ argv: ['/bench/sleep_loop'] })) },
    { name: '30 idle threads, 2 s: host CPU', unit: '% of a core', lowerIsBetter: true, method: steadyState,
      measure: cpuShare(() => ({ argv: ['/bench/idle_threads'] })) },
  ];
  return cases.map((c) => ({ ...c, group: 'micro' }));
}
