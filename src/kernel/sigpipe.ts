// SIGPIPE: Linux raises it in a writer whose write or send fails with EPIPE on a pipe or a
// stream socket (pipe_write, unix_stream_sendmsg, sk_stream_error). A send's MSG_NOSIGNAL
// keeps it quiet, and datagram and seqpacket sockets never raise it. The host calls behind
// these never signal the emulator (sends use MSG_NOSIGNAL, Node ignores SIGPIPE), so the
// guest's signal is raised here, for every such call in one place.
import { E } from './errno.js';
import type { OpenFile } from './files.js';
import { hostSyscall, scratch } from './host/libc.js';
import { sendSignal, SI, SIG } from './signals.js';
import { int, type SyscallResult } from './syscall.js';
import type { Thread } from './task.js';

const MSG_NOSIGNAL = 0x4000;
const SOL_SOCKET = 1, SO_TYPE = 3, SOCK_STREAM = 1;
const HOST_GETSOCKOPT = 55;

/** The calls that can raise it (their fd is the first argument), and where their send flags are (-1: none). */
const WRITERS = new Map<number, number>([
  [1, -1], [18, -1], [20, -1], [40, -1], [296, -1], [328, -1], // write, pwrite64, writev, sendfile, pwritev, pwritev2
  [44, 3], [46, 2], [307, 3], // sendto, sendmsg, sendmmsg
]);

/**
 * A syscall's result with SIGPIPE raised when it ends in EPIPE, now or after a wait (a write
 * parked on a full pipe whose reader then goes). The fd and flags are taken now: the argument
 * array is the engine's frame, which the next call reuses.
 */
export function raiseSigpipe(t: Thread, nr: number, args: readonly number[], result: SyscallResult): SyscallResult {
  if (typeof result === 'number' && result !== -E.EPIPE) return result;
  const flagsAt = WRITERS.get(nr);
  if (flagsAt === undefined || (flagsAt >= 0 && args[flagsAt] & MSG_NOSIGNAL)) return result;
  const fd = int(args[0]);
  const file = t.process.files.has(fd) ? t.process.files.get(fd) : null;
  const check = (r: SyscallResult): SyscallResult => {
    if (typeof r !== 'number') return r.kind === 'block' ? { ...r, resume: () => check(r.resume()) } : r;
    if (r === -E.EPIPE && signals(file)) sendSignal(t.process, t, { signo: SIG.PIPE, code: SI.KERNEL });
    return r;
  };
  return check(result);
}

/** Pipes and stream sockets signal a broken write; other sockets only fail. */
function signals(file: OpenFile | null): boolean {
  if (!file?.isSocket) return true;
  const buf = scratch.bounce(8);
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, 8);
  dv.setUint32(4, 4, true);
  if (hostSyscall(HOST_GETSOCKOPT, file.hostFd, SOL_SOCKET, SO_TYPE, buf.address, buf.address + 4) < 0) return true;
  return dv.getInt32(0, true) === SOCK_STREAM;
}
