// signalfd: pending signals read as signalfd_siginfo records. The OpenFile's host fd is an
// eventfd that sendSignal bumps whenever a signal of the mask is queued, so poll and epoll on
// a signalfd work like on any other fd.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { hostSyscall, HostNr, scratch } from './host/libc.js';
import { POLLIN } from './fd-io.js';
import { takePending, UNBLOCKABLE, type SigInfo } from './signals.js';
import { block, int, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Process, Thread } from './task.js';

const HOST_EVENTFD2 = 290;
const SFD = { CLOEXEC: O.CLOEXEC, NONBLOCK: O.NONBLOCK } as const;
const SIGINFO_SIZE = 128;

/** The signalfds of each process, so that a queued signal can make them readable. */
const signalfds = new WeakMap<Process, Set<OpenFile>>();

/** Called when sig is queued for p: every signalfd of p whose mask has it becomes readable. */
export function notifySignalfds(p: Process, sig: number): void {
  const bit = 1n << BigInt(sig - 1);
  for (const f of signalfds.get(p) ?? []) {
    if (f.signalMask! & bit) {
      const one = scratch.bounce(8);
      new DataView(one.view.buffer, one.view.byteOffset, 8).setBigUint64(0, 1n, true);
      hostSyscall(HostNr.write, f.hostFd, one.address, 8);
    }
  }
}

const signalfd4: SyscallHandler = (t, [fd, maskP, sizemask, flagsArg]) => {
  const flags = int(flagsArg);
  if (sizemask !== 8 || flags & ~(SFD.CLOEXEC | SFD.NONBLOCK)) throw new Errno(E.EINVAL);
  const mask = new DataView(t.mm.read(maskP, 8).buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  if (int(fd) !== -1) {
    const existing = t.process.files.get(int(fd));
    if (existing.signalMask === null) throw new Errno(E.EINVAL);
    existing.signalMask = mask;
    return int(fd);
  }
  const host = hostSyscall(HOST_EVENTFD2, 0, O.CLOEXEC | O.NONBLOCK);
  if (host < 0) return host;
  const file = new OpenFile(host, O.RDWR | (flags & SFD.NONBLOCK), 'anon_inode:[signalfd]');
  file.signalMask = mask;
  const set = signalfds.get(t.process) ?? new Set<OpenFile>();
  signalfds.set(t.process, set);
  set.add(file);
  return t.process.files.install(file, (flags & SFD.CLOEXEC) !== 0);
};

const signalfd: SyscallHandler = (t, [fd, maskP, sizemask]) => signalfd4(t, [fd, maskP, sizemask, 0, 0, 0]);

function record(info: SigInfo): Uint8Array {
  const dv = new DataView(new ArrayBuffer(SIGINFO_SIZE));
  dv.setUint32(0, info.signo, true);
  dv.setInt32(8, info.code, true);
  dv.setUint32(12, info.pid ?? 0, true);
  dv.setUint32(16, info.uid ?? 0, true);
  // struct signalfd_siginfo: ssi_status at 40, ssi_int at 44, ssi_ptr at 48, ssi_addr at 72.
  if (info.status !== undefined) dv.setInt32(40, info.status, true);
  if (info.value !== undefined) {
    dv.setInt32(44, info.value | 0, true);
    dv.setBigUint64(48, BigInt.asUintN(64, BigInt(info.value)), true);
  }
  if (info.addr !== undefined) dv.setBigUint64(72, BigInt(info.addr), true);
  return new Uint8Array(dv.buffer);
}

/** read() on a signalfd: as many pending signals of its mask as fit, or a wait for one. */
export function readSignalfd(t: Thread, file: OpenFile, buf: number, count: number): SyscallResult {
  const max = Math.floor(count / SIGINFO_SIZE);
  if (max === 0) throw new Errno(E.EINVAL);
  const attempt = (): SyscallResult => {
    let n = 0;
    for (let info = takePending(t, file.signalMask!); info && n < max; n++) {
      t.mm.write(buf + n * SIGINFO_SIZE, record(info));
      if (n + 1 < max) info = takePending(t, file.signalMask!);
    }
    // The eventfd says "readable" only while signals of the mask are still pending.
    const pending = (t.pendingSignals | t.process.pendingSignals) & file.signalMask!;
    if (!pending) hostSyscall(HostNr.read, file.hostFd, scratch.bounce(8).address, 8);
    if (n > 0) return n * SIGINFO_SIZE;
    if (file.flags & O.NONBLOCK) return -E.EAGAIN;
    return block({ kind: 'fd', hostFd: file.hostFd, events: POLLIN }, attempt);
  };
  return attempt();
}

export const signalfdSyscalls: SyscallEntry[] = [
  sys(282, 'signalfd', signalfd, ['fd', 'sigset', 'size'], 'fd'),
  sys(289, 'signalfd4', signalfd4, ['fd', 'sigset', 'size', 'hex'], 'fd'),
];
