// What the machine asks the first vCPU to run, and how start-up failures are reported.
import { Errno, ERRNO_MESSAGE, E } from '../kernel/errno.js';
import { NotExecutable } from '../kernel/exec/elf.js';
import { MissingInterpreter } from '../kernel/exec/loader.js';
import type { NetworkConfig } from '../netbridge/port-map.js';

export interface BootSpec {
  rootfs: string;
  binds: Array<{ host: string; guest: string; readOnly: boolean }>;
  /** Canonical guest path of the working directory. */
  cwd: string;
  /** Byte strings (latin1), as the guest sees them. */
  program: string;
  args: string[];
  env: string[];
  strace: { file: string | null } | null;
  network: NetworkConfig;
}

/** A failure to start the first program, as the CLI reports it: a message and an exit code. */
export function bootFailure(program: string, cause: unknown, exitCode: number | undefined): { error: string; exitCode: number } {
  if (typeof cause === 'string') return { error: `${program}: ${cause}`, exitCode: exitCode ?? 127 };
  if (cause instanceof MissingInterpreter) {
    return { error: `${program}: cannot run: its interpreter ${cause.path} is missing (${ERRNO_MESSAGE.get(E.ENOENT)})`, exitCode: 127 };
  }
  if (cause instanceof NotExecutable) return { error: `${program}: cannot run: ${cause.reason}`, exitCode: 126 };
  if (cause instanceof Errno) {
    const code = cause.errno === E.ENOENT || cause.errno === E.ENOTDIR ? 127 : 126;
    return { error: `${program}: ${ERRNO_MESSAGE.get(cause.errno) ?? cause.message}`, exitCode: code };
  }
  return { error: `${program}: internal error: ${cause instanceof Error ? cause.message : String(cause)}`, exitCode: 125 };
}
