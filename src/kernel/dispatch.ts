// How a syscall reaches its handler: the vCPU's syscall hook calls dispatch() with the
// frame it read from the engine; the value returned goes back into RAX.
import { E, Errno } from './errno.js';
import { SYSCALL_NAMES } from './syscall-names.js';
import { raiseSigpipe } from './sigpipe.js';
import type { SyscallEntry, SyscallResult } from './syscall.js';
import type { Thread } from './task.js';

/** Signal number used when the kernel itself fails while serving a call: SIGSYS. */
export const SIGSYS = 31;

export class SyscallTable {
  private readonly byNumber: Array<SyscallEntry | undefined> = [];

  constructor(families: ReadonlyArray<readonly SyscallEntry[]>) {
    for (const family of families) {
      for (const entry of family) {
        if (this.byNumber[entry.nr]) throw new Error(`syscall ${entry.nr} (${entry.name}) is defined twice`);
        this.byNumber[entry.nr] = entry;
      }
    }
  }

  get(nr: number): SyscallEntry | undefined {
    return nr >= 0 ? this.byNumber[nr] : undefined;
  }
}

/** Runs one syscall: handler errors become -errno; a kernel bug ends the guest process, not the emulator. */
export function dispatch(table: SyscallTable, t: Thread, nr: number, args: readonly number[]): SyscallResult {
  const entry = table.get(nr);
  const strace = t.kernel.strace;
  strace?.enter(t, entry, nr, args);
  let result: SyscallResult;
  if (!entry) {
    t.kernel.warnOnce(`nosys:${nr}`, `unimplemented syscall ${SYSCALL_NAMES[nr] ?? nr} (${nr}): returning ENOSYS`);
    // Once per process and number: a guest that retries in a loop does not flood the log.
    if (!t.process.unknownSyscalls.has(nr)) {
      t.process.unknownSyscalls.add(nr);
      t.kernel.events.emit({ event: 'unknown-syscall', pid: t.process.pid, tid: t.tid, nr, name: SYSCALL_NAMES[nr] ?? String(nr) });
    }
    result = -E.ENOSYS;
  } else {
    result = guard(t, entry.name, () => entry.handler(t, args));
  }
  result = raiseSigpipe(t, nr, args, result);
  if (strace) traceResult(t, result);
  return result;
}

/** Continues a syscall that was parked: runs its resume step. */
export function resume(t: Thread, step: () => SyscallResult): SyscallResult {
  const result = guard(t, 'resume', step);
  const strace = t.kernel.strace;
  if (strace) traceResult(t, result);
  return result;
}

/** A finished call prints its line; a parked one its `<unfinished ...>` line (a Leave has no value: `= ?`). */
function traceResult(t: Thread, result: SyscallResult): void {
  const strace = t.kernel.strace!;
  if (typeof result === 'number') strace.exit(t, result);
  else if (result.kind === 'block') strace.blocked(t);
  else strace.exit(t, 0);
}

function guard(t: Thread, name: string, fn: () => SyscallResult): SyscallResult {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Errno) return -e.errno;
    const message = e instanceof Error ? e.message : String(e);
    t.kernel.warnOnce(`bug:${name}:${message}`, `internal error in ${name}: ${message}; killing the guest process`);
    if (process.env.STARLING_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    t.process.exitStatus ??= SIGSYS;
    return { kind: 'leave', why: 'exit' };
  }
}
