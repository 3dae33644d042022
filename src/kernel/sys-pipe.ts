// pipe and pipe2: a host pipe, non-blocking on the host; the guest's O_NONBLOCK decides
// whether reads and writes wait (fd-io.ts).
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { hostSyscall, HostNr, scratch } from './host/libc.js';
import { int, sys, type SyscallEntry, type SyscallHandler } from './syscall.js';

const HOST_PIPE2 = 293;
const O_NOTIFICATION_PIPE = O.EXCL;
const PIPE_FLAGS = O.CLOEXEC | O.NONBLOCK | O.DIRECT | O_NOTIFICATION_PIPE;

const pipe2: SyscallHandler = (t, [fdsP, flagsArg]) => {
  const flags = int(flagsArg);
  if (flags & ~PIPE_FLAGS || flags & O_NOTIFICATION_PIPE) throw new Errno(E.EINVAL);
  t.mm.write(fdsP, new Uint8Array(8)); // EFAULT before anything is created
  const host = scratch.bounce(8);
  const r = hostSyscall(HOST_PIPE2, host.address, O.CLOEXEC | O.NONBLOCK | (flags & O.DIRECT));
  if (r < 0) return r;
  const dv = new DataView(host.view.buffer, host.view.byteOffset, 8);
  const readHost = dv.getInt32(0, true), writeHost = dv.getInt32(4, true);
  const st = scratch.bounce(144);
  hostSyscall(HostNr.fstat, readHost, st.address);
  const name = `pipe:[${new DataView(st.view.buffer, st.view.byteOffset, 144).getBigUint64(8, true)}]`;
  const status = flags & (O.NONBLOCK | O.DIRECT);
  const files = t.process.files;
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const readFd = files.install(new OpenFile(readHost, O.RDONLY | status, name), cloexec);
  let writeFd: number;
  try {
    writeFd = files.install(new OpenFile(writeHost, O.WRONLY | status, name), cloexec);
  } catch (e) {
    files.close(readFd);
    throw e;
  }
  const out = new DataView(new ArrayBuffer(8));
  out.setInt32(0, readFd, true);
  out.setInt32(4, writeFd, true);
  t.mm.write(fdsP, new Uint8Array(out.buffer));
  return 0;
};

const pipe: SyscallHandler = (t, [fdsP]) => pipe2(t, [fdsP, 0, 0, 0, 0, 0]);

export const pipeSyscalls: SyscallEntry[] = [
  sys(22, 'pipe', pipe, ['ptr']),
  sys(293, 'pipe2', pipe2, ['ptr', 'oflags']),
];
