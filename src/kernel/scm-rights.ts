// Descriptor passing (SCM_RIGHTS) over AF_UNIX sockets. Every guest file is a host fd, so the
// host kernel carries the descriptors: a send swaps each guest fd in the control data for its
// host fd, and a receive wraps each host fd the host installed in the emulator in a new guest
// OpenFile. The host also does Linux's part of the work: refusing more than SCM_MAX_FD fds,
// truncating (MSG_CTRUNC, closing the fds that do not fit) when the buffer is too small.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { addressOf, hostSyscall, HostNr } from './host/libc.js';
import type { Thread } from './task.js';
import { S } from './vfs/host.js';

const SOL_SOCKET = 1, SCM_RIGHTS = 1;
/** struct cmsghdr on x86-64: cmsg_len (size_t), cmsg_level, cmsg_type; data is 8-aligned. */
const CMSG_HDR = 16;
const SCM_MAX_FD = 253;
const F_GETFL = 3;

const align = (n: number) => (n + 7) & ~7;

interface Cmsg {
  at: number;
  len: number;
  level: number;
  type: number;
}

/** The control messages in control, walked as the kernel's for_each_cmsghdr does; EINVAL for a bad cmsg_len. */
function cmsgs(control: Uint8Array): Cmsg[] {
  const dv = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const out: Cmsg[] = [];
  for (let at = 0; at + CMSG_HDR <= control.length; at += align(out[out.length - 1].len)) {
    const len = Number(dv.getBigUint64(at, true));
    if (len < CMSG_HDR || len > control.length - at) throw new Errno(E.EINVAL);
    out.push({ at, len, level: dv.getInt32(at + 8, true), type: dv.getInt32(at + 12, true) });
  }
  return out;
}

function isRights(c: Cmsg): boolean {
  return c.level === SOL_SOCKET && c.type === SCM_RIGHTS;
}

/**
 * What a process sent, by the host identity of its open file description (device, inode and
 * status flags, so the two ends of a pipe differ): the receiver's OpenFile takes the sender's
 * guest view (path, O_NONBLOCK), which the host fd cannot tell. Bounded, oldest forgotten
 * first; a forgotten or foreign file is described from the host fd alone.
 */
const sent = new Map<string, OpenFile>();
const SENT_MAX = 4096;

/** fstat of a host fd: a stable address for the struct. */
const STAT = new Uint8Array(new SharedArrayBuffer(144));
const STAT_ADDRESS = addressOf(STAT.buffer as SharedArrayBuffer);
const STAT_VIEW = new DataView(STAT.buffer);

function identity(hostFd: number): { key: string; mode: number; ino: bigint; hostFlags: number } {
  const hostFlags = hostSyscall(HostNr.fcntl, hostFd, F_GETFL);
  if (hostSyscall(HostNr.fstat, hostFd, STAT_ADDRESS) < 0) return { key: '', mode: 0, ino: 0n, hostFlags };
  const ino = STAT_VIEW.getBigUint64(8, true);
  return { key: `${STAT_VIEW.getBigUint64(0, true)}:${ino}:${hostFlags}`, mode: STAT_VIEW.getUint32(24, true), ino, hostFlags };
}

function remember(file: OpenFile): void {
  const { key } = identity(file.hostFd);
  sent.delete(key);
  sent.set(key, file);
  if (sent.size > SENT_MAX) sent.delete(sent.keys().next().value!);
}

/**
 * The control data a guest sendmsg gives, as the host must see it: the guest fds of every
 * SCM_RIGHTS message replaced by their host fds (EBADF for one that is not open). Other
 * messages pass unchanged; SCM_CREDENTIALS is not translated (the host checks its pid).
 */
export function hostControl(t: Thread, guest: Uint8Array): Uint8Array {
  const control = guest.slice();
  const dv = new DataView(control.buffer);
  for (const c of cmsgs(control).filter(isRights)) {
    const count = Math.floor((c.len - CMSG_HDR) / 4);
    if (count > SCM_MAX_FD) throw new Errno(E.EINVAL);
    for (let i = 0; i < count; i++) {
      const at = c.at + CMSG_HDR + i * 4;
      const file = t.process.files.get(dv.getInt32(at, true));
      dv.setInt32(at, file.hostFd, true);
      remember(file);
    }
  }
  return control;
}

/** A guest OpenFile over a host fd received from a socket. */
function adopt(hostFd: number): OpenFile {
  const { key, mode, ino, hostFlags } = identity(hostFd);
  const known = sent.get(key);
  const type = mode & S.IFMT;
  // Without the sender's view, the fd starts blocking, as the guest would have created it:
  // the host side of sockets and pipes is always non-blocking.
  const flags = known?.flags ?? hostFlags & ~O.NONBLOCK;
  const name = known?.guestPath ?? (type === S.IFSOCK ? `socket:[${ino}]` : type === S.IFIFO ? `pipe:[${ino}]` : `anon_inode:[${ino}]`);
  const file = new OpenFile(hostFd, flags, name, known?.syntheticDir ?? null);
  file.isSocket = type === S.IFSOCK;
  file.socketPath = known?.socketPath ?? null;
  file.isEpoll = known?.isEpoll ?? false;
  return file;
}

/** The host fds of every SCM_RIGHTS message in control. */
function hostFdsIn(control: Uint8Array): number[] {
  const dv = new DataView(control.buffer, control.byteOffset, control.byteLength);
  return cmsgs(control).filter(isRights).flatMap((c) =>
    Array.from({ length: Math.floor((c.len - CMSG_HDR) / 4) }, (_, i) => dv.getInt32(c.at + CMSG_HDR + i * 4, true)));
}

/**
 * After a host recvmsg: installs the host fds of every SCM_RIGHTS message as guest fds and
 * puts their numbers in the control data, bound for the guest's buffer at dest (checked first:
 * on EFAULT the host fds are closed, not leaked). When the guest's table is full, the fds that
 * did not get a number are closed and the message is cut there (MSG_CTRUNC), as Linux's
 * scm_detach_fds does. Returns the control data and whether it was cut.
 */
export function installReceived(t: Thread, control: Uint8Array, dest: number, cloexec: boolean): { control: Uint8Array; truncated: boolean } {
  try {
    t.mm.hostSpans(dest, control.length, 'write');
  } catch (e) {
    for (const fd of hostFdsIn(control)) hostSyscall(HostNr.close, fd);
    throw e;
  }
  const dv = new DataView(control.buffer, control.byteOffset, control.byteLength);
  for (const c of cmsgs(control).filter(isRights)) {
    const count = Math.floor((c.len - CMSG_HDR) / 4);
    for (let i = 0; i < count; i++) {
      const at = c.at + CMSG_HDR + i * 4;
      try {
        dv.setInt32(at, t.process.files.install(adopt(dv.getInt32(at, true)), cloexec), true);
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        for (let j = i + 1; j < count; j++) hostSyscall(HostNr.close, dv.getInt32(c.at + CMSG_HDR + j * 4, true));
        dv.setBigUint64(c.at, BigInt(CMSG_HDR + i * 4), true);
        return { control: control.subarray(0, i ? Math.min(control.length, c.at + align(CMSG_HDR + i * 4)) : c.at), truncated: true };
      }
    }
  }
  return { control, truncated: false };
}
