// Socket addresses between the guest and the host. Inet addresses get the host ports that
// stand for guest ports (socket-ports.ts) and outbound ones must stay on loopback; abstract
// AF_UNIX names get a per-machine prefix, so guests never meet the host's; filesystem AF_UNIX
// names are resolved in the jail and reach the host as /proc/self/fd/DIRFD/NAME. Names coming
// back are given the guest's spelling.
import { E, Errno } from './errno.js';
import type { OpenFile } from './files.js';
import { HostScratch, scratch } from './host/libc.js';
import { int } from './syscall.js';
import type { Thread } from './task.js';
import { ABSTRACT_PREFIX, inetEndpoint, isLoopback } from '../netbridge/address-policy.js';
import { guestSideAddress, hostSideAddress } from './socket-ports.js';

const AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
export const SOCKADDR_MAX = 128;
const AT_FDCWD = -100;

const SUN_PATH_MAX = 108;

/** The bytes of a guest sockaddr argument (EINVAL for a length Linux refuses, EFAULT). */
export function sockaddrIn(t: Thread, addrP: number, len: number): Uint8Array {
  if (int(len) < 0 || len > SOCKADDR_MAX) throw new Errno(E.EINVAL);
  return t.mm.read(addrP, len);
}

/**
 * A guest sockaddr (not a filesystem AF_UNIX name) for f as the host should see it: an inet
 * port becomes its host stand-in; an outbound destination must be on loopback.
 */
function hostSockaddr(t: Thread, f: OpenFile, a: Uint8Array, destination: boolean): Uint8Array {
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
  if (family === AF_UNSPEC) {
    // connect(AF_UNSPEC) dissolves an association; udp_sendmsg reads an AF_UNSPEC destination's
    // bytes as an IPv4 address, so those must name this machine too.
    if (destination && a.length >= 8 && a[4] !== 127 && !a.subarray(4, 8).every((b) => b === 0)) throw new Errno(E.ENETUNREACH);
    return a;
  }
  if (family === AF_INET && a.length < 16) throw new Errno(E.EINVAL);
  if (family === AF_INET6 && a.length < 24) throw new Errno(E.EINVAL);
  if (family !== AF_INET && family !== AF_INET6) throw new Errno(E.EAFNOSUPPORT);
  if (destination && !isLoopback(family, a)) {
    t.kernel.events.emit({ event: 'refused', pid: t.process.pid, ...inetEndpoint(a), reason: 'outbound traffic reaches only loopback' });
    throw new Errno(E.ENETUNREACH);
  }
  return hostSideAddress(t, f, a);
}

/** The guest path in an AF_UNIX sockaddr, or null for other families and abstract names. */
export function unixPath(a: Uint8Array): string | null {
  if (a.length < 3 || (a[0] | (a[1] << 8)) !== AF_UNIX || a[2] === 0) return null;
  const end = a.indexOf(0, 2);
  return Buffer.from(a.subarray(2, end < 0 ? a.length : end)).toString('latin1');
}

export type SockaddrCall = (addr: number, len: number) => number;

/**
 * Runs call with the host sockaddr for a guest one. A filesystem AF_UNIX name is resolved in
 * the jail (following symlinks unless binding: bind creates the socket file) and reaches the
 * host as /proc/self/fd/DIRFD/NAME, so the host never resolves a guest path.
 */
export function withHostSockaddr(t: Thread, f: OpenFile, a: Uint8Array, purpose: 'bind' | 'destination', call: SockaddrCall): number {
  const path = unixPath(a);
  if (path === null) return callWithSockaddr(hostSockaddr(t, f, a, purpose === 'destination'), call);
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
export function sendDestination(t: Thread, f: OpenFile, addrP: number, len: number): (call: SockaddrCall) => number {
  const a = sockaddrIn(t, addrP, len);
  if (unixPath(a) !== null) return (call) => withHostSockaddr(t, f, a, 'destination', call);
  const host = hostSockaddr(t, f, a, true);
  return (call) => callWithSockaddr(host, call);
}

/** A host sockaddr of f's own (local) or its peer's as the guest spells it. */
export function guestName(t: Thread, f: OpenFile, host: Uint8Array, side: 'local' | 'peer'): Uint8Array {
  let out = guestSideAddress(t, f, host, side);
  // A peer bound through /proc/self/fd/N/NAME: the host's spelling means nothing in the guest.
  if (host.length > 3 && host[0] === AF_UNIX && Buffer.from(host.subarray(2, 16)).toString('latin1') === '/proc/self/fd/') out = host.subarray(0, 2);
  if (host.length > 3 && host[0] === AF_UNIX && host[2] === 0) {
    const prefix = Buffer.from(ABSTRACT_PREFIX, 'latin1');
    if (Buffer.from(host.subarray(3, 3 + prefix.length)).equals(prefix)) {
      out = new Uint8Array([AF_UNIX, 0, 0, ...host.subarray(3 + prefix.length)]);
    }
  }
  return out;
}

/** Writes a host sockaddr of f's own (local) or its peer's back to the guest (addrP, lenP as accept/getsockname take them). */
export function guestSockaddr(t: Thread, f: OpenFile, host: Uint8Array, side: 'local' | 'peer', addrP: number, lenP: number): void {
  if (!addrP) return;
  const out = guestName(t, f, host, side);
  const room = t.mm.readU32(lenP);
  if (int(room) < 0) throw new Errno(E.EINVAL);
  t.mm.write(addrP, out.subarray(0, Math.min(room, out.length)));
  t.mm.writeU32(lenP, out.length);
}

/**
 * Runs a host call that fills a sockaddr and its length (accept4, getsockname, getpeername) in
 * scratch; returns the call's result and, when it succeeded, the sockaddr's bytes.
 */
export function receiveHostSockaddr(call: (addr: number, lenAddr: number) => number): { result: number; addr: Uint8Array } {
  const buf = scratch.bounce(SOCKADDR_MAX + 8);
  const dv = new DataView(buf.view.buffer, buf.view.byteOffset, SOCKADDR_MAX + 8);
  dv.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
  const result = call(buf.address, buf.address + SOCKADDR_MAX);
  const addr = result < 0 ? new Uint8Array(0) : buf.view.slice(0, Math.min(dv.getUint32(SOCKADDR_MAX, true), SOCKADDR_MAX));
  return { result, addr };
}

/** Runs a host call that returns a sockaddr into scratch, then copies it to the guest. */
export function withSockaddrOut(t: Thread, f: OpenFile, side: 'local' | 'peer', addrP: number, lenP: number, call: (addr: number, lenAddr: number) => number): number {
  const { result, addr } = receiveHostSockaddr(call);
  if (result >= 0) guestSockaddr(t, f, addr, side, addrP, lenP);
  return result;
}

/** Places addr in scratch's second path region (a send's payload may be in the bounce buffer). */
function callWithSockaddr(addr: Uint8Array, call: SockaddrCall): number {
  scratch.bytes.set(addr, HostScratch.PATH_B);
  return call(scratch.address + HostScratch.PATH_B, addr.length);
}
