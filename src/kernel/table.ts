// The syscall table: every family's entries in one place.
import { SyscallTable } from './dispatch.js';
import { fileSyscalls } from './sys-file.js';
import { statSyscalls } from './sys-stat.js';
import { dirSyscalls } from './sys-dir.js';
import { mmSyscalls } from './sys-mm.js';
import { procSyscalls } from './sys-proc.js';
import { infoSyscalls } from './sys-info.js';
import { timeSyscalls } from './sys-time.js';
import { itimerSyscalls } from './sys-itimer.js';
import { signalSyscalls } from './sys-signal.js';
import { schedSyscalls } from './sys-sched.js';
import { futexSyscalls } from './sys-futex.js';
import { threadSyscalls } from './sys-thread.js';
import { pipeSyscalls } from './sys-pipe.js';
import { netSyscalls } from './sys-net.js';
import { pollSyscalls } from './sys-poll.js';
import { signalfdSyscalls } from './signalfd.js';

export function buildSyscallTable(): SyscallTable {
  return new SyscallTable([
    fileSyscalls, statSyscalls, dirSyscalls, mmSyscalls, procSyscalls, infoSyscalls, timeSyscalls, itimerSyscalls, signalSyscalls, schedSyscalls, futexSyscalls, threadSyscalls, pipeSyscalls, netSyscalls, pollSyscalls, signalfdSyscalls,
  ]);
}
