// Sockets: every guest socket is a host socket, non-blocking on the host; the guest's
// O_NONBLOCK (or MSG_DONTWAIT) decides whether a call waits (the thread parks on the host fd).
// Addresses go through sockaddr.ts (host ports for guest ports, loopback-only destinations,
// the machine's own abstract names); data moves through socket-io.ts.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { hostSyscall, scratch } from './host/libc.js';
import { clampCount, hostReady, POLLIN, POLLOUT, socketDeadline, transfer, waitsOnlyBeforeMoving } from './fd-io.js';
import { guestSockaddr, receiveHostSockaddr, sockaddrIn, unixPath, withHostSockaddr, withSockaddrOut } from './sockaddr.js';
import {
  eachMessage, incomingBuffer, incomingMsghdr, MSG, outgoingBuffer, outgoingMsghdr, receive, send, UIO_MAXIOV,
} from './socket-io.js';
import { confineToLoopback, explainBindRefusal, guestSideAddress, leavesLoopback } from './socket-ports.js';
import { block, int, remote, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import { monotonicMs, readTimespec, writeTimespec } from './sys-time.js';
import type { Thread } from './task.js';
import { inetEndpoint } from '../netbridge/address-policy.js';

const NR = {
  socket: 41, connect: 42, accept: 43, sendto: 44, recvfrom: 45, sendmsg: 46, recvmsg: 47, shutdown: 48,
  bind: 49, listen: 50, getsockname: 51, getpeername: 52, socketpair: 53, setsockopt: 54, getsockopt: 55,
  accept4: 288,
} as const;
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_NONBLOCK = O.NONBLOCK, SOCK_CLOEXEC = O.CLOEXEC;
const SOL_SOCKET = 1, SO_ERROR = 4;

function socketFile(t: Thread, fd: number): OpenFile {
  const f = t.process.files.get(fd);
  if (!f.isSocket) throw new Errno(E.ENOTSOCK);
  return f;
}

function install(t: Thread, hostFd: number, typeFlags: number): number {
  const file = new OpenFile(hostFd, O.RDWR | (typeFlags & SOCK_NONBLOCK ? O.NONBLOCK : 0), `socket:[${hostFd}]`);
  file.isSocket = true;
  return t.process.files.install(file, (typeFlags & SOCK_CLOEXEC) !== 0);
}

const socket: SyscallHandler = (t, [domain, typeArg, protocol]) => {
  const type = int(typeArg);
  const base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (int(domain) !== AF_UNIX && int(domain) !== AF_INET && int(domain) !== AF_INET6) throw new Errno(E.EAFNOSUPPORT);
  if (base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET) throw new Errno(E.EINVAL);
  const fd = hostSyscall(NR.socket, int(domain), base | SOCK_NONBLOCK | SOCK_CLOEXEC, int(protocol));
  if (fd < 0) return fd;
  confineToLoopback(t, fd, int(domain));
  return install(t, fd, type);
};

const socketpair: SyscallHandler = (t, [domain, typeArg, protocol, svP]) => {
  const type = int(typeArg);
  if (int(domain) !== AF_UNIX) throw new Errno(E.EOPNOTSUPP);
  t.mm.write(svP, new Uint8Array(8));
  const buf = scratch.bounce(8);
  const r = hostSyscall(NR.socketpair, AF_UNIX, (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) | SOCK_NONBLOCK | SOCK_CLOEXEC, int(protocol), buf.address);
  if (r < 0) return r;
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, 8);
  const a = install(t, dv.getInt32(0, true), type), b = install(t, dv.getInt32(4, true), type);
  const out = new DataView(new ArrayBuffer(8));
  out.setInt32(0, a, true);
  out.setInt32(4, b, true);
  t.mm.write(svP, new Uint8Array(out.buffer));
  return 0;
};

const bind: SyscallHandler = (t, [fd, addrP, len]) => {
  const f = socketFile(t, fd);
  const a = sockaddrIn(t, addrP, len);
  const r = withHostSockaddr(t, f, a, 'bind', (host, l) => hostSyscall(NR.bind, f.hostFd, host, l));
  if (r === 0) f.socketPath = unixPath(a);
  else explainBindRefusal(t, f, a, r);
  return r;
};

const listen: SyscallHandler = (t, [fd, backlog]) => {
  const f = socketFile(t, fd);
  const r = hostSyscall(NR.listen, f.hostFd, int(backlog));
  if (r === 0) t.kernel.events.emit({ event: 'listen', pid: t.process.pid, ...listeningOn(t, f) });
  return r;
};

/** Where a listening socket listens, as the event log names it: the guest's port and the host port standing for it. */
function listeningOn(t: Thread, f: OpenFile): { address: string; port: number; hostPort: number } {
  const { result, addr: a } = receiveHostSockaddr((addr, lenAddr) => hostSyscall(NR.getsockname, f.hostFd, addr, lenAddr));
  if (result < 0) return { address: '?', port: 0, hostPort: 0 };
  const family = a[0] | (a[1] << 8);
  if (family !== AF_INET && family !== AF_INET6) return { address: f.socketPath ?? 'unix', port: 0, hostPort: 0 };
  const host = inetEndpoint(a);
  return { address: host.address, port: inetEndpoint(guestSideAddress(t, f, a, 'local')).port, hostPort: host.port };
}

function acceptOn(t: Thread, fd: number, addrP: number, lenP: number, flags: number): SyscallResult {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new Errno(E.EINVAL);
  const f = socketFile(t, fd);
  return transfer(f, POLLIN, () => {
    const { result: r, addr: peer } = receiveHostSockaddr((addr, lenAddr) => hostSyscall(NR.accept4, f.hostFd, addr, lenAddr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (r < 0) return r;
    const guestFd = install(t, r, flags);
    guestSockaddr(t, f, peer, 'peer', addrP, lenP);
    return guestFd;
  });
}

const accept: SyscallHandler = (t, [fd, addrP, lenP]) => acceptOn(t, fd, addrP, lenP, 0);
const accept4: SyscallHandler = (t, [fd, addrP, lenP, flags]) => acceptOn(t, fd, addrP, lenP, int(flags));

const connect: SyscallHandler = (t, [fd, addrP, len]) => {
  const f = socketFile(t, fd);
  const r = withHostSockaddr(t, f, sockaddrIn(t, addrP, len), 'destination', (a, l) => hostSyscall(NR.connect, f.hostFd, a, l));
  if (r !== -E.EINPROGRESS || f.flags & O.NONBLOCK) return r;
  // A blocking connect waits for the host's non-blocking one to finish, then reports its
  // result; SO_SNDTIMEO bounds the wait, after which it is still in progress.
  const deadline = socketDeadline(f, POLLOUT);
  const finish = (): SyscallResult => {
    if (!hostReady(f.hostFd, POLLOUT)) return -E.EINPROGRESS;
    const buf = scratch.bounce(8);
    new DataView(buf.view.buffer, buf.view.byteOffset, 8).setUint32(4, 4, true);
    hostSyscall(NR.getsockopt, f.hostFd, SOL_SOCKET, SO_ERROR, buf.address, buf.address + 4);
    const err = new DataView(buf.view.buffer, buf.view.byteOffset, 8).getInt32(0, true);
    return err ? -err : 0;
  };
  return block({ kind: 'fd', hostFd: f.hostFd, events: POLLOUT, deadline }, finish);
};

const shutdown: SyscallHandler = (t, [fd, how]) => hostSyscall(NR.shutdown, socketFile(t, fd).hostFd, int(how));

/** A socket bound to a filesystem name reports the guest's path, not the host's /proc/self/fd form. */
const getsockname: SyscallHandler = (t, [fd, addrP, lenP]) => {
  const f = socketFile(t, fd);
  if (f.socketPath !== null) {
    guestSockaddr(t, f, new Uint8Array([AF_UNIX, 0, ...Buffer.from(f.socketPath, 'latin1'), 0]), 'local', addrP, lenP);
    return 0;
  }
  return withSockaddrOut(t, f, 'local', addrP, lenP, (a, l) => hostSyscall(NR.getsockname, f.hostFd, a, l));
};
const getpeername: SyscallHandler = (t, [fd, addrP, lenP]) => {
  const f = socketFile(t, fd);
  return withSockaddrOut(t, f, 'peer', addrP, lenP, (a, l) => hostSyscall(NR.getpeername, f.hostFd, a, l));
};

const OPTVAL_MAX = 256;

const setsockopt: SyscallHandler = (t, [fd, level, name, valP, len]) => {
  const f = socketFile(t, fd);
  if (int(len) < 0 || len > OPTVAL_MAX) throw new Errno(E.EINVAL);
  const value = len ? t.mm.read(valP, len) : new Uint8Array(0);
  // A guest tied to loopback stays there (what Linux tells a user who may not rebind a socket's device).
  if (leavesLoopback(t, f, int(level), int(name), value)) return -E.EPERM;
  const buf = scratch.bounce(OPTVAL_MAX);
  buf.view.set(value);
  return hostSyscall(NR.setsockopt, f.hostFd, int(level), int(name), buf.address, len);
};

const getsockopt: SyscallHandler = (t, [fd, level, name, valP, lenP]) => {
  const f = socketFile(t, fd);
  const room = int(t.mm.readU32(lenP));
  if (room < 0) throw new Errno(E.EINVAL);
  const buf = scratch.bounce(OPTVAL_MAX + 4);
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, OPTVAL_MAX + 4);
  dv.setUint32(OPTVAL_MAX, Math.min(room, OPTVAL_MAX), true);
  const r = hostSyscall(NR.getsockopt, f.hostFd, int(level), int(name), buf.address, buf.address + OPTVAL_MAX);
  if (r < 0) return r;
  const n = dv.getUint32(OPTVAL_MAX, true);
  t.mm.write(valP, buf.view.slice(0, Math.min(n, room)));
  t.mm.writeU32(lenP, n);
  return r;
};

const sendto: SyscallHandler = (t, [fd, bufP, len, flags, addrP, addrLen]) => {
  const f = socketFile(t, fd);
  return send(f, outgoingBuffer(t, f, bufP, clampCount(len), addrP, addrLen), int(flags));
};

const recvfrom: SyscallHandler = (t, [fd, bufP, len, flags, addrP, lenP]) => {
  const f = socketFile(t, fd);
  return receive(f, incomingBuffer(t, f, bufP, clampCount(len), int(flags), addrP, lenP), int(flags));
};

const sendmsg: SyscallHandler = (t, [fd, msgP, flags]) => {
  const f = socketFile(t, fd);
  return send(f, outgoingMsghdr(t, f, msgP), int(flags));
};

const recvmsg: SyscallHandler = (t, [fd, msgP, flags]) => {
  const f = socketFile(t, fd);
  return receive(f, incomingMsghdr(t, f, msgP, int(flags)), int(flags));
};

const MMSGHDR_SIZE = 64, MSG_LEN_AT = 56;

/** sendmmsg: each message as sendmsg sends it, until one fails or would wait on a non-blocking socket. */
const sendmmsg: SyscallHandler = (t, [fd, vecP, vlen, flagsArg]) => {
  const f = socketFile(t, fd);
  const flags = int(flagsArg);
  return eachMessage(Math.min(vlen >>> 0, UIO_MAXIOV), (i) => send(f, outgoingMsghdr(t, f, vecP + i * MMSGHDR_SIZE), flags), (i, r) => {
    t.mm.writeU32(vecP + i * MMSGHDR_SIZE + MSG_LEN_AT, r);
    return false;
  });
};

/**
 * recvmmsg: each message as recvmsg receives it (MSG_WAITFORONE: only the first may wait).
 * The timeout is checked after each message, as Linux does, and what is left of it written back.
 */
const recvmmsg: SyscallHandler = (t, [fd, vecP, vlen, flagsArg, timeoutP]) => {
  const f = socketFile(t, fd);
  const flags = int(flagsArg);
  let end: number | undefined;
  if (timeoutP) {
    const { sec, nsec } = readTimespec(t, timeoutP);
    end = monotonicMs() + sec * 1e3 + nsec / 1e6;
  }
  const step = (i: number) => {
    const each = (flags & ~MSG.WAITFORONE) | (i > 0 && flags & MSG.WAITFORONE ? MSG.DONTWAIT : 0);
    return receive(f, incomingMsghdr(t, f, vecP + i * MMSGHDR_SIZE, each), each);
  };
  const result = eachMessage(Math.min(vlen >>> 0, UIO_MAXIOV), step, (i, r) => {
    t.mm.writeU32(vecP + i * MMSGHDR_SIZE + MSG_LEN_AT, r);
    return end !== undefined && monotonicMs() >= end;
  });
  if (end === undefined) return result;
  const writeLeft = (r: SyscallResult): SyscallResult => {
    if (typeof r !== 'number') return r.kind === 'block' ? { ...r, resume: () => writeLeft(r.resume()) } : r;
    if (r > 0) writeTimespec(t, timeoutP, Math.max(0, end! - monotonicMs()));
    return r;
  };
  return writeLeft(result);
};

/** A stream send that could wait after moving part of its data is made through an exit (remote). */
const sendMovesAtOnce = (t: Thread, fd: number, flags: number) => (flags & MSG.DONTWAIT) !== 0 || waitsOnlyBeforeMoving(t, fd);

export const netSyscalls: SyscallEntry[] = [
  remote(sys(NR.sendmsg, 'sendmsg', sendmsg, ['fd', 'ptr', 'hex']), (t, [fd, , flags]) => sendMovesAtOnce(t, fd, flags)),
  remote(sys(NR.recvmsg, 'recvmsg', recvmsg, ['fd', 'ptr', 'hex']), (_t, [, , flags]) => !(flags & MSG.WAITALL)),
  sys(299, 'recvmmsg', recvmmsg, ['fd', 'ptr', 'uint', 'hex', 'ptr']),
  sys(307, 'sendmmsg', sendmmsg, ['fd', 'ptr', 'uint', 'hex']),
  sys(NR.socket, 'socket', socket, ['int', 'hex', 'int'], 'fd'),
  sys(NR.socketpair, 'socketpair', socketpair, ['int', 'hex', 'int', 'ptr']),
  sys(NR.bind, 'bind', bind, ['fd', 'ptr', 'int']),
  sys(NR.listen, 'listen', listen, ['fd', 'int']),
  sys(NR.accept, 'accept', accept, ['fd', 'ptr', 'ptr'], 'fd'),
  sys(NR.accept4, 'accept4', accept4, ['fd', 'ptr', 'ptr', 'hex'], 'fd'),
  sys(NR.connect, 'connect', connect, ['fd', 'ptr', 'int']),
  sys(NR.shutdown, 'shutdown', shutdown, ['fd', 'int']),
  sys(NR.getsockname, 'getsockname', getsockname, ['fd', 'ptr', 'ptr']),
  sys(NR.getpeername, 'getpeername', getpeername, ['fd', 'ptr', 'ptr']),
  sys(NR.setsockopt, 'setsockopt', setsockopt, ['fd', 'int', 'int', 'ptr', 'int']),
  sys(NR.getsockopt, 'getsockopt', getsockopt, ['fd', 'int', 'int', 'ptr', 'ptr']),
  remote(sys(NR.sendto, 'sendto', sendto, ['fd', 'inbuf', 'size', 'hex', 'ptr', 'int']), (t, [fd, , , flags]) => sendMovesAtOnce(t, fd, flags)),
  remote(sys(NR.recvfrom, 'recvfrom', recvfrom, ['fd', 'outbuf', 'size', 'hex', 'ptr', 'ptr']), (_t, [, , , flags]) => !(flags & MSG.WAITALL)),
];
