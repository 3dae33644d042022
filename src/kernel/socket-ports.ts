// The host side of inet socket addresses: a guest port becomes its host stand-in on the way
// out (bind, connect, sendto, sendmsg) and back on the way in (getsockname, getpeername,
// accept, recvfrom, recvmsg), as netbridge/port-map.ts decides; without --listen-all every
// inet socket is tied to the host's loopback interface, so a guest listener on [::] takes
// connections from the host itself only; and a bind the host refuses is explained in one line.
import { E, ERRNO_NAME } from './errno.js';
import type { OpenFile } from './files.js';
import { addressOf, hostSyscall } from './host/libc.js';
import type { Thread } from './task.js';
import { isLoopback } from '../netbridge/address-policy.js';
import { sockaddrPort, withSockaddrPort, type Transport } from '../netbridge/port-map.js';

const HOST = { getsockname: 51, setsockopt: 54, getsockopt: 55 } as const;
const AF_INET = 2, AF_INET6 = 10;
const SOCK_STREAM = 1, SOCK_DGRAM = 2;
const SOL_SOCKET = 1, SO_TYPE = 3, SO_DOMAIN = 39, SO_BINDTODEVICE = 25, SO_BINDTOIFINDEX = 62;
/** The loopback interface is the first one a network namespace registers. */
const LOOPBACK_IFINDEX = 1;

/** Room for an option value or a sockaddr and their lengths, at a stable host address. */
const AREA = new Uint8Array(new SharedArrayBuffer(256));
const AREA_ADDRESS = addressOf(AREA.buffer as SharedArrayBuffer);
const VIEW = new DataView(AREA.buffer);
const LEN_AT = 128;

function familyOf(addr: Uint8Array): number {
  return addr.length >= 2 ? addr[0] | (addr[1] << 8) : -1;
}

const isInetFamily = (family: number) => family === AF_INET || family === AF_INET6;

function hostIntOption(hostFd: number, name: number): number | null {
  VIEW.setUint32(LEN_AT, 4, true);
  return hostSyscall(HOST.getsockopt, hostFd, SOL_SOCKET, name, AREA_ADDRESS, AREA_ADDRESS + LEN_AT) < 0 ? null : VIEW.getInt32(0, true);
}

const kinds = new WeakMap<OpenFile, { domain: number; type: number }>();

/** A socket's family and type (SO_DOMAIN, SO_TYPE; cached: they never change). */
export function socketKind(f: OpenFile): { domain: number; type: number } {
  let kind = kinds.get(f);
  if (!kind) kinds.set(f, (kind = { domain: hostIntOption(f.hostFd, SO_DOMAIN) ?? -1, type: hostIntOption(f.hostFd, SO_TYPE) ?? -1 }));
  return kind;
}

/** tcp or udp for an inet stream or datagram socket (the ports --publish maps), null for any other socket. */
export function transportOf(f: OpenFile): Transport | null {
  const { domain, type } = socketKind(f);
  if (!isInetFamily(domain)) return null;
  return type === SOCK_STREAM ? 'tcp' : type === SOCK_DGRAM ? 'udp' : null;
}

/** A guest inet sockaddr as the host sees it: its port replaced by the host port standing for it. */
export function hostSideAddress(t: Thread, f: OpenFile, addr: Uint8Array): Uint8Array {
  const { ports } = t.kernel.network;
  if (ports.isIdentity || !isInetFamily(familyOf(addr))) return addr;
  const transport = transportOf(f);
  return transport ? withSockaddrPort(addr, ports.hostPort(transport, sockaddrPort(addr))) : addr;
}

/**
 * A host inet sockaddr as the guest sees it. The socket's own name always carries guest
 * ports; a peer's only when it is on loopback (a remote peer's port is its own business).
 */
export function guestSideAddress(t: Thread, f: OpenFile, addr: Uint8Array, side: 'local' | 'peer'): Uint8Array {
  const { ports } = t.kernel.network;
  const family = familyOf(addr);
  if (ports.isIdentity || !isInetFamily(family) || (side === 'peer' && !isLoopback(family, addr))) return addr;
  const transport = transportOf(f);
  return transport ? withSockaddrPort(addr, ports.guestPort(transport, sockaddrPort(addr))) : addr;
}

/**
 * Without --listen-all a new inet socket is bound to the loopback device (unprivileged since
 * Linux 5.7), so whatever address the guest binds, only the host itself reaches it.
 */
export function confineToLoopback(t: Thread, hostFd: number, domain: number): void {
  if (t.kernel.network.listenAll || !isInetFamily(domain)) return;
  AREA.set([0x6c, 0x6f, 0]); // "lo"
  const r = hostSyscall(HOST.setsockopt, hostFd, SOL_SOCKET, SO_BINDTODEVICE, AREA_ADDRESS, 3);
  if (r < 0) {
    t.kernel.warnOnce('bindtodevice', `the host refuses SO_BINDTODEVICE (${ERRNO_NAME.get(-r)}): guest listeners take connections on every host interface`);
  }
}

/** Whether a guest setsockopt would tie a confined inet socket to another device than loopback (or to none). */
export function leavesLoopback(t: Thread, f: OpenFile, level: number, name: number, value: Uint8Array): boolean {
  if (t.kernel.network.listenAll || level !== SOL_SOCKET || transportOf(f) === null) return false;
  if (name === SO_BINDTODEVICE) {
    const end = value.indexOf(0);
    return Buffer.from(value.subarray(0, end < 0 ? value.length : end)).toString('latin1') !== 'lo';
  }
  if (name === SO_BINDTOIFINDEX) return value.length < 4 || new DataView(value.buffer, value.byteOffset, 4).getInt32(0, true) !== LOOPBACK_IFINDEX;
  return false;
}

/** The host port a socket is bound to, or null when it has no inet name. */
function hostBoundPort(f: OpenFile): number | null {
  VIEW.setUint32(LEN_AT, 128, true);
  if (hostSyscall(HOST.getsockname, f.hostFd, AREA_ADDRESS, AREA_ADDRESS + LEN_AT) < 0) return null;
  return isInetFamily(familyOf(AREA)) ? sockaddrPort(AREA) : null;
}

/** Whether a guest socket (of any process) of this transport holds the host port. */
function heldByGuest(t: Thread, transport: Transport, hostPort: number): boolean {
  for (const p of t.kernel.scheduler.processes()) {
    for (const [, f] of p.files) if (f.isSocket && transportOf(f) === transport && hostBoundPort(f) === hostPort) return true;
  }
  return false;
}

/**
 * One line on starling's stderr (and an event) when the host refuses a guest's inet bind for a
 * reason of the host's own: the port is taken by a host program, or it is below 1024 and
 * starling is not root. The guest gets the host's errno either way, as a Linux program would.
 */
export function explainBindRefusal(t: Thread, f: OpenFile, guestAddr: Uint8Array, r: number): void {
  if (r !== -E.EADDRINUSE && r !== -E.EACCES) return;
  const transport = isInetFamily(familyOf(guestAddr)) ? transportOf(f) : null;
  if (!transport) return;
  const guestPort = sockaddrPort(guestAddr), hostPort = sockaddrPort(hostSideAddress(t, f, guestAddr));
  const port = `guest port ${guestPort}/${transport}${hostPort === guestPort ? '' : ` (host port ${hostPort})`}`;
  const refused = (errno: string, message: string) => {
    t.kernel.events.emit({ event: 'bind-refused', pid: t.process.pid, transport, port: guestPort, hostPort, errno });
    t.kernel.warnOnce(`${errno}:${transport}:${hostPort}`, `${port}: ${message}`);
  };
  if (r === -E.EADDRINUSE && !heldByGuest(t, transport, hostPort)) {
    refused('EADDRINUSE', `host port ${hostPort} is already in use on the host, so the guest's bind fails with EADDRINUSE (--publish ${guestPort}:PORT moves it)`);
  }
  if (r === -E.EACCES && hostPort < 1024) {
    refused('EACCES',
      `the host refuses ports below 1024 to a user who is not root, so the guest's bind fails with EACCES (run starling as root, or --publish ${guestPort}:PORT with PORT >= 1024)`);
  }
}
