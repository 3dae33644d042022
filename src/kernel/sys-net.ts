// Sockets: every guest socket is a host socket, non-blocking on the host; the guest's
// O_NONBLOCK (or MSG_DONTWAIT) decides whether a call waits (the thread parks on the host fd).
// A guest port is the same port on the host, so a host client reaches a guest listener
// directly. Outbound, the guest reaches only loopback: connect and sendto to any other address
// fail with ENETUNREACH, so nothing the guest does reaches a host address it was not given.
// Abstract AF_UNIX names get a per-machine prefix, so guests never meet the host's.
import { E, Errno } from './errno.js';
import { O, OpenFile } from './files.js';
import { addressOf, hostSyscall, HostScratch, scratch } from './host/libc.js';
import { errorAfterWait, POLLIN, POLLOUT, transfer } from './fd-io.js';
import { hostControl, installReceived } from './scm-rights.js';
import { block, int, sys, type SyscallEntry, type SyscallHandler, type SyscallResult } from './syscall.js';
import type { Thread } from './task.js';
import { ABSTRACT_PREFIX, inetEndpoint, isLoopback } from '../netbridge/address-policy.js';

const NR = {
  socket: 41, connect: 42, accept: 43, sendto: 44, recvfrom: 45, sendmsg: 46, recvmsg: 47, shutdown: 48,
  bind: 49, listen: 50, getsockname: 51, getpeername: 52, socketpair: 53, setsockopt: 54, getsockopt: 55,
  accept4: 288,
} as const;
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_NONBLOCK = O.NONBLOCK, SOCK_CLOEXEC = O.CLOEXEC;
const MSG_CTRUNC = 0x8, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1, SO_ERROR = 4;
const SOCKADDR_MAX = 128;
const AT_FDCWD = -100;

function socketFile(t: Thread, fd: number): OpenFile {
  const f = t.process.files.get(fd);
  if (!f.isSocket) throw new Errno(E.ENOTSOCK);
  return f;
}

const SUN_PATH_MAX = 108;

/** The bytes of a guest sockaddr argument (EINVAL for a length Linux refuses, EFAULT). */
function sockaddrIn(t: Thread, addrP: number, len: number): Uint8Array {
  if (int(len) < 0 || len > SOCKADDR_MAX) throw new Errno(E.EINVAL);
  return t.mm.read(addrP, len);
}

/** A guest sockaddr (not a filesystem AF_UNIX name) as the host should see it. For an outbound destination, only loopback. */
function hostSockaddr(t: Thread, a: Uint8Array, destination: boolean): Uint8Array {
  if (a.length < 2) throw new Errno(E.EINVAL);
  const family = a[0] | (a[1] << 8);
  if (family === AF_UNIX) {
    // Filesystem names are resolved in the jail by withHostSockaddr; here they are not allowed.
    if (a.length <= 2 || a[2] !== 0) throw new Errno(E.EAFNOSUPPORT);
    const name = Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from(ABSTRACT_PREFIX, 'latin1'), a.subarray(3)]);
    name[0] = AF_UNIX;
    if (name.length > 2 + SUN_PATH_MAX) throw new Errno(E.EINVAL);
    return name;
  }
  if (family === AF_INET && a.length < 16) throw new Errno(E.EINVAL);
  if (family === AF_INET6 && a.length < 24) throw new Errno(E.EINVAL);
  if (family !== AF_INET && family !== AF_INET6) throw new Errno(E.EAFNOSUPPORT);
  if (destination && !isLoopback(family, a)) {
    t.kernel.events.emit({ event: 'refused', pid: t.process.pid, ...inetEndpoint(a), reason: 'outbound traffic reaches only loopback' });
    throw new Errno(E.ENETUNREACH);
  }
  return a;
}

/** The guest path in an AF_UNIX sockaddr, or null for other families and abstract names. */
function unixPath(a: Uint8Array): string | null {
  if (a.length < 3 || (a[0] | (a[1] << 8)) !== AF_UNIX || a[2] === 0) return null;
  const end = a.indexOf(0, 2);
  return Buffer.from(a.subarray(2, end < 0 ? a.length : end)).toString('latin1');
}

type SockaddrCall = (addr: number, len: number) => number;

/**
 * Runs call with the host sockaddr for a guest one. A filesystem AF_UNIX name is resolved in
 * the jail (following symlinks unless binding: bind creates the socket file) and reaches the
 * host as /proc/self/fd/DIRFD/NAME, so the host never resolves a guest path.
 */
function withHostSockaddr(t: Thread, a: Uint8Array, purpose: 'bind' | 'destination', call: SockaddrCall): number {
  const path = unixPath(a);
  if (path === null) return callWithSockaddr(hostSockaddr(t, a, purpose === 'destination'), call);
  if (path === '') throw new Errno(E.ENOENT);
  const vfs = t.kernel.vfs;
  return vfs.lookup(t, AT_FDCWD, path, { follow: purpose === 'destination', parent: purpose === 'bind' }, (r) => {
    if (purpose === 'bind' && vfs.isReadOnly(r.path)) throw new Errno(E.EROFS);
    const ref = vfs.atRef(r);
    if (!ref) throw new Errno(purpose === 'bind' ? E.EADDRINUSE : E.ECONNREFUSED);
    const hostPath = Buffer.from(`/proc/self/fd/${ref.fd}/${ref.name}`, 'latin1');
    if (hostPath.length >= SUN_PATH_MAX) throw new Errno(E.ENAMETOOLONG);
    return callWithSockaddr(new Uint8Array([AF_UNIX, 0, ...hostPath, 0]), call);
  });
}

/**
 * The destination of a sendto or sendmsg, checked now (Linux refuses a bad address before it
 * waits); a filesystem name is resolved in the jail each time the send is tried, because the
 * host name it gets lives only as long as the lookup.
 */
function sendDestination(t: Thread, addrP: number, len: number): (call: SockaddrCall) => number {
  const a = sockaddrIn(t, addrP, len);
  if (unixPath(a) !== null) return (call) => withHostSockaddr(t, a, 'destination', call);
  const host = hostSockaddr(t, a, true);
  return (call) => callWithSockaddr(host, call);
}

/** Writes a host sockaddr back to the guest (addrP, lenP as accept/getsockname take them). */
function guestSockaddr(t: Thread, host: Uint8Array, addrP: number, lenP: number): void {
  if (!addrP) return;
  let out = host;
  // A peer bound through /proc/self/fd/N/NAME: the host's spelling means nothing in the guest.
  if (host.length > 3 && host[0] === AF_UNIX && Buffer.from(host.subarray(2, 16)).toString('latin1') === '/proc/self/fd/') out = host.subarray(0, 2);
  if (host.length > 3 && host[0] === AF_UNIX && host[2] === 0) {
    const prefix = Buffer.from(ABSTRACT_PREFIX, 'latin1');
    if (Buffer.from(host.subarray(3, 3 + prefix.length)).equals(prefix)) {
      out = new Uint8Array([AF_UNIX, 0, 0, ...host.subarray(3 + prefix.length)]);
    }
  }
  const room = t.mm.readU32(lenP);
  if (int(room) < 0) throw new Errno(E.EINVAL);
  t.mm.write(addrP, out.subarray(0, Math.min(room, out.length)));
  t.mm.writeU32(lenP, out.length);
}

/** Runs a host call that returns a sockaddr into scratch, then copies it to the guest. */
function withSockaddrOut(t: Thread, addrP: number, lenP: number, call: (addr: number, lenAddr: number) => number): number {
  const buf = scratch.bounce(SOCKADDR_MAX + 8);
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, SOCKADDR_MAX + 8);
  dv.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
  const r = call(buf.address, buf.address + SOCKADDR_MAX);
  if (r < 0) return r;
  const len = dv.getUint32(SOCKADDR_MAX, true);
  guestSockaddr(t, buf.view.slice(0, Math.min(len, SOCKADDR_MAX)), addrP, lenP);
  return r;
}

/** Places addr in scratch's second path region (a send's payload may be in the bounce buffer). */
function callWithSockaddr(addr: Uint8Array, call: SockaddrCall): number {
  scratch.bytes.set(addr, HostScratch.PATH_B);
  return call(scratch.address + HostScratch.PATH_B, addr.length);
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
  return fd < 0 ? fd : install(t, fd, type);
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
  const r = withHostSockaddr(t, a, 'bind', (host, l) => hostSyscall(NR.bind, f.hostFd, host, l));
  if (r === 0) f.socketPath = unixPath(a);
  return r;
};

const listen: SyscallHandler = (t, [fd, backlog]) => {
  const f = socketFile(t, fd);
  const r = hostSyscall(NR.listen, f.hostFd, int(backlog));
  if (r === 0) t.kernel.events.emit({ event: 'listen', pid: t.process.pid, ...listeningOn(f) });
  return r;
};

/** Where a listening socket listens, as the event log names it (the host's view: a guest port is the host's). */
function listeningOn(f: OpenFile): { address: string; port: number } {
  const buf = scratch.bounce(SOCKADDR_MAX + 8);
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, SOCKADDR_MAX + 8);
  dv.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
  if (hostSyscall(NR.getsockname, f.hostFd, buf.address, buf.address + SOCKADDR_MAX) < 0) return { address: '?', port: 0 };
  const a = buf.view.slice(0, Math.min(dv.getUint32(SOCKADDR_MAX, true), SOCKADDR_MAX));
  const family = a[0] | (a[1] << 8);
  if (family === AF_INET || family === AF_INET6) return inetEndpoint(a);
  return { address: f.socketPath ?? 'unix', port: 0 };
}

function acceptOn(t: Thread, fd: number, addrP: number, lenP: number, flags: number): SyscallResult {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new Errno(E.EINVAL);
  const f = socketFile(t, fd);
  return transfer(f, POLLIN, () => {
    const buf = scratch.bounce(SOCKADDR_MAX + 8);
    const dv = new DataView(buf.view.buffer, buf.view.byteOffset, SOCKADDR_MAX + 8);
    dv.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
    const r = hostSyscall(NR.accept4, f.hostFd, buf.address, buf.address + SOCKADDR_MAX, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (r < 0) return r;
    const peer = buf.view.slice(0, Math.min(dv.getUint32(SOCKADDR_MAX, true), SOCKADDR_MAX));
    const guestFd = install(t, r, flags);
    guestSockaddr(t, peer, addrP, lenP);
    return guestFd;
  });
}

const accept: SyscallHandler = (t, [fd, addrP, lenP]) => acceptOn(t, fd, addrP, lenP, 0);
const accept4: SyscallHandler = (t, [fd, addrP, lenP, flags]) => acceptOn(t, fd, addrP, lenP, int(flags));



const connect: SyscallHandler = (t, [fd, addrP, len]) => {
  const f = socketFile(t, fd);
  const r = withHostSockaddr(t, sockaddrIn(t, addrP, len), 'destination', (a, l) => hostSyscall(NR.connect, f.hostFd, a, l));
  if (r !== -E.EINPROGRESS || f.flags & O.NONBLOCK) return r;
  // A blocking connect waits for the host's non-blocking one to finish, then reports its result.
  const finish = (): SyscallResult => {
    const buf = scratch.bounce(8);
    new DataView(buf.view.buffer, buf.view.byteOffset, 8).setUint32(4, 4, true);
    hostSyscall(NR.getsockopt, f.hostFd, SOL_SOCKET, SO_ERROR, buf.address, buf.address + 4);
    const err = new DataView(buf.view.buffer, buf.view.byteOffset, 8).getInt32(0, true);
    return err ? -err : 0;
  };
  return block({ kind: 'fd', hostFd: f.hostFd, events: POLLOUT }, finish);
};

const shutdown: SyscallHandler = (t, [fd, how]) => hostSyscall(NR.shutdown, socketFile(t, fd).hostFd, int(how));

/** A socket bound to a filesystem name reports the guest's path, not the host's /proc/self/fd form. */
const getsockname: SyscallHandler = (t, [fd, addrP, lenP]) => {
  const f = socketFile(t, fd);
  if (f.socketPath !== null) {
    guestSockaddr(t, new Uint8Array([AF_UNIX, 0, ...Buffer.from(f.socketPath, 'latin1'), 0]), addrP, lenP);
    return 0;
  }
  return withSockaddrOut(t, addrP, lenP, (a, l) => hostSyscall(NR.getsockname, f.hostFd, a, l));
};
const getpeername: SyscallHandler = (t, [fd, addrP, lenP]) =>
  withSockaddrOut(t, addrP, lenP, (a, l) => hostSyscall(NR.getpeername, socketFile(t, fd).hostFd, a, l));

const OPTVAL_MAX = 256;

const setsockopt: SyscallHandler = (t, [fd, level, name, valP, len]) => {
  const f = socketFile(t, fd);
  if (int(len) < 0 || len > OPTVAL_MAX) throw new Errno(E.EINVAL);
  const value = len ? t.mm.read(valP, len) : new Uint8Array(0);
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

/**
 * A send or receive: waits unless the socket is O_NONBLOCK or the call says MSG_DONTWAIT. A
 * send tried again after waiting reports the socket's pending error first (errorAfterWait).
 */
function sendOrReceive(f: OpenFile, flags: number, events: number, attempt: () => number): SyscallResult {
  if (flags & MSG_DONTWAIT) return attempt();
  if (events !== POLLOUT) return transfer(f, events, attempt);
  let waited = false;
  const result = transfer(f, events, () => (waited ? errorAfterWait(f, attempt()) : attempt()));
  waited = true; // any later attempt is the resume of a wait
  return result;
}

const sendto: SyscallHandler = (t, [fd, bufP, len, flagsArg, addrP, addrLen]) => {
  const f = socketFile(t, fd);
  const flags = int(flagsArg);
  const dest = addrP ? sendDestination(t, addrP, addrLen) : null;
  const spans = t.mm.hostSpans(bufP, Math.min(len, 0x7ffff000), 'read');
  return sendOrReceive(f, flags, POLLOUT, () => {
    const data = spans.length === 1 ? spans[0] : bounceFrom(t, bufP, len);
    const send = (a: number, l: number) => hostSyscall(NR.sendto, f.hostFd, data[0], data[1], flags | MSG_DONTWAIT | MSG_NOSIGNAL, a, l);
    return dest ? dest(send) : send(0, 0);
  });
};

/** Copies a guest buffer that is not contiguous in the pool to the bounce buffer. */
function bounceFrom(t: Thread, addr: number, len: number): [number, number] {
  const b = scratch.bounce(len);
  b.view.set(t.mm.read(addr, len));
  return [b.address, len];
}

const recvfrom: SyscallHandler = (t, [fd, bufP, len, flagsArg, addrP, lenP]) => {
  const f = socketFile(t, fd);
  const flags = int(flagsArg);
  const spans = t.mm.hostSpans(bufP, Math.min(len, 0x7ffff000), 'write');
  return sendOrReceive(f, flags, POLLIN, () => {
    const addrBuf = scratch.address + HostScratch.PATH_B;
    new DataView(scratch.bytes.buffer).setUint32(HostScratch.PATH_B + SOCKADDR_MAX, SOCKADDR_MAX, true);
    const single = spans.length <= 1;
    const target = single ? (spans[0] ?? [0, 0]) : [scratch.bounce(len).address, len];
    const r = hostSyscall(NR.recvfrom, f.hostFd, target[0], target[1], flags | MSG_DONTWAIT, addrP ? addrBuf : 0, addrP ? addrBuf + SOCKADDR_MAX : 0);
    if (r < 0) return r;
    if (!single) t.mm.write(bufP, scratch.bounce(len).view.slice(0, r));
    if (addrP) {
      const n = new DataView(scratch.bytes.buffer).getUint32(HostScratch.PATH_B + SOCKADDR_MAX, true);
      guestSockaddr(t, scratch.bytes.slice(HostScratch.PATH_B, HostScratch.PATH_B + Math.min(n, SOCKADDR_MAX)), addrP, lenP);
    }
    return r;
  });
};

/** Scratch for one host msghdr: the header, its iovecs, the name and the control data. */
const MSG = { HDR: 0, NAME: 64, IOV: 256, CONTROL: 256 + 16 * 1024, CONTROL_MAX: 4096 } as const;
const MSG_AREA = new Uint8Array(new SharedArrayBuffer(MSG.CONTROL + MSG.CONTROL_MAX));
const MSG_ADDRESS = addressOf(MSG_AREA.buffer as SharedArrayBuffer);
const MSG_VIEW = new DataView(MSG_AREA.buffer);
const UIO_MAXIOV = 1024;

interface GuestMsghdr {
  name: number;
  namelen: number;
  iov: number;
  iovlen: number;
  control: number;
  controllen: number;
}

function readMsghdr(t: Thread, p: number): GuestMsghdr {
  const dv = new DataView(t.mm.read(p, 56).buffer);
  return {
    name: Number(dv.getBigUint64(0, true)), namelen: dv.getUint32(8, true), iov: Number(dv.getBigUint64(16, true)),
    iovlen: Number(dv.getBigUint64(24, true)), control: Number(dv.getBigUint64(32, true)), controllen: Number(dv.getBigUint64(40, true)),
  };
}

/**
 * Builds the host msghdr for a guest one: iovecs over the guest's own pool bytes and the
 * control data (a send's SCM_RIGHTS fds become host fds). A send's address is set by sendOne.
 */
function hostMsghdr(t: Thread, m: GuestMsghdr, sending: boolean): number {
  if (m.iovlen > UIO_MAXIOV) throw new Errno(E.EMSGSIZE);
  const iovs = new DataView(t.mm.read(m.iov, m.iovlen * 16).buffer);
  let n = 0;
  for (let i = 0; i < m.iovlen; i++) {
    const base = Number(iovs.getBigUint64(i * 16, true)), len = Number(iovs.getBigUint64(i * 16 + 8, true));
    for (const [addr, l] of t.mm.hostSpans(base, len, sending ? 'read' : 'write')) {
      if (n >= UIO_MAXIOV) throw new Errno(E.EMSGSIZE);
      MSG_VIEW.setBigUint64(MSG.IOV + n * 16, BigInt(addr), true);
      MSG_VIEW.setBigUint64(MSG.IOV + n * 16 + 8, BigInt(l), true);
      n++;
    }
  }
  const namelen = !sending && m.name ? SOCKADDR_MAX : 0;
  const controllen = m.control ? controlLength(t, m, sending) : 0;
  MSG_VIEW.setBigUint64(MSG.HDR, BigInt(namelen ? MSG_ADDRESS + MSG.NAME : 0), true);
  MSG_VIEW.setUint32(MSG.HDR + 8, namelen, true);
  MSG_VIEW.setBigUint64(MSG.HDR + 16, BigInt(MSG_ADDRESS + MSG.IOV), true);
  MSG_VIEW.setBigUint64(MSG.HDR + 24, BigInt(n), true);
  MSG_VIEW.setBigUint64(MSG.HDR + 32, BigInt(controllen ? MSG_ADDRESS + MSG.CONTROL : 0), true);
  MSG_VIEW.setBigUint64(MSG.HDR + 40, BigInt(controllen), true);
  MSG_VIEW.setInt32(MSG.HDR + 48, 0, true);
  return MSG_ADDRESS + MSG.HDR;
}

/** Room for the control data in MSG_AREA; a send's is copied in (ENOBUFS beyond it, as Linux's optmem limit gives). */
function controlLength(t: Thread, m: GuestMsghdr, sending: boolean): number {
  if (!sending) return Math.min(m.controllen, MSG.CONTROL_MAX);
  if (m.controllen > MSG.CONTROL_MAX) throw new Errno(E.ENOBUFS);
  MSG_AREA.set(hostControl(t, t.mm.read(m.control, m.controllen)), MSG.CONTROL);
  return m.controllen;
}

/** After a host recvmsg: the address, control data (fds installed), their lengths and msg_flags back to the guest. */
function finishRecv(t: Thread, msgP: number, m: GuestMsghdr, flags: number): void {
  if (m.name) {
    const len = MSG_VIEW.getUint32(MSG.HDR + 8, true);
    const room = m.namelen;
    t.mm.write(m.name, MSG_AREA.slice(MSG.NAME, MSG.NAME + Math.min(len, room)));
    t.mm.writeU32(msgP + 8, len);
  }
  const received = MSG_AREA.slice(MSG.CONTROL, MSG.CONTROL + Number(MSG_VIEW.getBigUint64(MSG.HDR + 40, true)));
  const { control, truncated } = installReceived(t, received, m.control, (flags & MSG_CMSG_CLOEXEC) !== 0);
  if (control.length) t.mm.write(m.control, control);
  t.mm.writeU64(msgP + 40, control.length);
  // The host always got MSG_CMSG_CLOEXEC; msg_flags echoes it only when the guest asked.
  const hostFlags = MSG_VIEW.getInt32(MSG.HDR + 48, true) & ~MSG_CMSG_CLOEXEC;
  t.mm.writeU32(msgP + 48, hostFlags | (flags & MSG_CMSG_CLOEXEC) | (truncated ? MSG_CTRUNC : 0));
}

function sendOne(t: Thread, f: OpenFile, msgP: number, flags: number): number {
  const m = readMsghdr(t, msgP);
  const hdr = hostMsghdr(t, m, true);
  const send = (name: number, namelen: number) => {
    MSG_VIEW.setBigUint64(MSG.HDR, BigInt(name), true);
    MSG_VIEW.setUint32(MSG.HDR + 8, namelen, true);
    return hostSyscall(NR.sendmsg, f.hostFd, hdr, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
  };
  // Linux ignores msg_name when msg_namelen is 0.
  return m.name && m.namelen ? sendDestination(t, m.name, m.namelen)(send) : send(0, 0);
}

/** The host keeps every fd it hands the emulator close-on-exec; the guest's MSG_CMSG_CLOEXEC is applied to its own table. */
function recvOne(t: Thread, f: OpenFile, msgP: number, flags: number): number {
  const m = readMsghdr(t, msgP);
  const r = hostSyscall(NR.recvmsg, f.hostFd, hostMsghdr(t, m, false), flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (r >= 0) finishRecv(t, msgP, m, flags);
  return r;
}

const sendmsg: SyscallHandler = (t, [fd, msgP, flagsArg]) => {
  const f = socketFile(t, fd);
  return sendOrReceive(f, int(flagsArg), POLLOUT, () => sendOne(t, f, msgP, int(flagsArg)));
};

const recvmsg: SyscallHandler = (t, [fd, msgP, flagsArg]) => {
  const f = socketFile(t, fd);
  return sendOrReceive(f, int(flagsArg), POLLIN, () => recvOne(t, f, msgP, int(flagsArg)));
};

const MMSGHDR_SIZE = 64, MSG_WAITFORONE = 0x10000;

/** recvmmsg/sendmmsg: the first message may wait; the rest are taken while they come without waiting. */
function manyMessages(t: Thread, fd: number, vecP: number, vlen: number, flags: number, sending: boolean): SyscallResult {
  const f = socketFile(t, fd);
  const count = Math.min(vlen >>> 0, UIO_MAXIOV);
  const one = (i: number, extra: number) => (sending ? sendOne : recvOne)(t, f, vecP + i * MMSGHDR_SIZE, (flags & ~MSG_WAITFORONE) | extra);
  return sendOrReceive(f, flags, sending ? POLLOUT : POLLIN, () => {
    let done = 0;
    for (; done < count; done++) {
      const r = one(done, done > 0 ? MSG_DONTWAIT : 0);
      if (r < 0) return done > 0 ? done : r;
      t.mm.writeU32(vecP + done * MMSGHDR_SIZE + 56, r);
    }
    return done;
  });
}

const recvmmsg: SyscallHandler = (t, [fd, vecP, vlen, flags]) => manyMessages(t, fd, vecP, vlen, int(flags), false);
const sendmmsg: SyscallHandler = (t, [fd, vecP, vlen, flags]) => manyMessages(t, fd, vecP, vlen, int(flags), true);

export const netSyscalls: SyscallEntry[] = [
  sys(NR.sendmsg, 'sendmsg', sendmsg, ['fd', 'ptr', 'hex']),
  sys(NR.recvmsg, 'recvmsg', recvmsg, ['fd', 'ptr', 'hex']),
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
  sys(NR.sendto, 'sendto', sendto, ['fd', 'inbuf', 'size', 'hex', 'ptr', 'int']),
  sys(NR.recvfrom, 'recvfrom', recvfrom, ['fd', 'outbuf', 'size', 'hex', 'ptr', 'ptr']),
];
