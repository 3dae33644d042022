// Moving data through guest sockets. Every attempt is one host sendmsg or recvmsg with
// MSG_DONTWAIT whose iovecs point straight at the guest's pool bytes; what Linux does by
// sleeping inside the call is done by parking the thread between attempts: a blocking stream
// send moves every byte (tcp_sendmsg, unix_stream_sendmsg), MSG_WAITALL makes a blocking
// stream receive fill its buffer, and sendmmsg/recvmmsg go message by message.
import { E, Errno } from './errno.js';
import type { OpenFile } from './files.js';
import { O } from './files.js';
import { addressOf, hostSyscall } from './host/libc.js';
import { errorAfterWait, POLLIN, POLLOUT, sliceSpans, socketDeadline, transfer, writeAll, type Spans } from './fd-io.js';
import { hostControl, installReceived } from './scm-rights.js';
import { guestName, guestSockaddr, sendDestination, SOCKADDR_MAX, type SockaddrCall } from './sockaddr.js';
import { socketKind } from './socket-ports.js';
import { block, type SyscallResult } from './syscall.js';
import { monotonicMs } from './sys-time.js';
import type { Thread } from './task.js';

const HOST = { sendmsg: 46, recvmsg: 47 } as const;
export const MSG = {
  OOB: 0x1, PEEK: 0x2, CTRUNC: 0x8, TRUNC: 0x20, DONTWAIT: 0x40, WAITALL: 0x100, NOSIGNAL: 0x4000, WAITFORONE: 0x10000,
  CMSG_CLOEXEC: 0x40000000,
} as const;
const SOCK_STREAM = 1;
export const UIO_MAXIOV = 1024;

/** Scratch for one host msghdr: the header, the name, its iovecs and the control data. */
const AREA_AT = { HDR: 0, NAME: 64, IOV: 256, CONTROL: 256 + 16 * UIO_MAXIOV, CONTROL_MAX: 4096 } as const;
const AREA = new Uint8Array(new SharedArrayBuffer(AREA_AT.CONTROL + AREA_AT.CONTROL_MAX));
const AREA_ADDRESS = addressOf(AREA.buffer as SharedArrayBuffer);
const VIEW = new DataView(AREA.buffer);

/** A message to send: host spans of its bytes, where it goes and its control data (guest fds already host fds). */
export interface Outgoing {
  spans: Spans;
  total: number;
  destination: ((call: SockaddrCall) => number) | null;
  control: Uint8Array | null;
}

/** Room for a message to receive, and what to do with the sender's name, control data and flags the host returns. */
export interface Incoming {
  spans: Spans;
  total: number;
  wantsName: boolean;
  controlRoom: number;
  /** Called right after the host call that received the message's first bytes (the scratch is reused by any later call). */
  deliver: (name: Uint8Array, control: Uint8Array, hostFlags: number) => void;
}

const isStream = (f: OpenFile) => socketKind(f).type === SOCK_STREAM;
const total = (spans: Spans) => spans.reduce((n, [, len]) => n + len, 0);

function putHeader(spans: Spans, nameAt: number, namelen: number, controllen: number): number {
  if (spans.length > UIO_MAXIOV) throw new Errno(E.EMSGSIZE);
  spans.forEach(([addr, len], i) => {
    VIEW.setBigUint64(AREA_AT.IOV + i * 16, BigInt(addr), true);
    VIEW.setBigUint64(AREA_AT.IOV + i * 16 + 8, BigInt(len), true);
  });
  VIEW.setBigUint64(AREA_AT.HDR, BigInt(nameAt), true);
  VIEW.setUint32(AREA_AT.HDR + 8, namelen, true);
  VIEW.setBigUint64(AREA_AT.HDR + 16, BigInt(AREA_ADDRESS + AREA_AT.IOV), true);
  VIEW.setBigUint64(AREA_AT.HDR + 24, BigInt(spans.length), true);
  VIEW.setBigUint64(AREA_AT.HDR + 32, BigInt(controllen ? AREA_ADDRESS + AREA_AT.CONTROL : 0), true);
  VIEW.setBigUint64(AREA_AT.HDR + 40, BigInt(controllen), true);
  VIEW.setInt32(AREA_AT.HDR + 48, 0, true);
  return AREA_ADDRESS + AREA_AT.HDR;
}

/** One host sendmsg of bytes [done, done + limit) of a message; the control data goes with its first byte. */
function sendPart(f: OpenFile, out: Outgoing, done: number, limit: number, flags: number): number {
  const control = done === 0 ? out.control : null;
  if (control) AREA.set(control, AREA_AT.CONTROL);
  const send = (name: number, namelen: number) => {
    const hdr = putHeader(sliceSpans(out.spans, done, limit), name, namelen, control?.length ?? 0);
    return hostSyscall(HOST.sendmsg, f.hostFd, hdr, flags | MSG.DONTWAIT | MSG.NOSIGNAL);
  };
  return out.destination ? out.destination(send) : send(0, 0);
}

/**
 * Sends a message. A blocking stream socket waits until every byte is sent (or its
 * SO_SNDTIMEO passes); other sockets send the message at once or not at all. A send tried
 * again after waiting reports the socket's pending error first (errorAfterWait).
 */
export function send(f: OpenFile, out: Outgoing, flags: number): SyscallResult {
  const part = (done: number, limit: number) => sendPart(f, out, done, limit, flags);
  if (flags & MSG.DONTWAIT) return part(0, out.total);
  if (isStream(f)) return writeAll(f, out.total, part);
  let waited = false;
  const result = transfer(f, POLLOUT, () => (waited ? errorAfterWait(f, part(0, out.total)) : part(0, out.total)));
  waited = true; // any later attempt is the resume of a wait
  return result;
}

/** One host recvmsg into bytes [done, done + limit) of the buffer; the first one also takes the name and control data. */
function receivePart(inc: Incoming, f: OpenFile, done: number, limit: number, flags: number): number {
  const first = done === 0;
  const namelen = first && inc.wantsName ? SOCKADDR_MAX : 0;
  const controllen = first ? Math.min(inc.controlRoom, AREA_AT.CONTROL_MAX) : 0;
  const hdr = putHeader(sliceSpans(inc.spans, done, limit), namelen ? AREA_ADDRESS + AREA_AT.NAME : 0, namelen, controllen);
  const r = hostSyscall(HOST.recvmsg, f.hostFd, hdr, flags | MSG.DONTWAIT | MSG.CMSG_CLOEXEC);
  if (r >= 0 && first) {
    const nameLength = Math.min(VIEW.getUint32(AREA_AT.HDR + 8, true), SOCKADDR_MAX);
    const controlLength = Number(VIEW.getBigUint64(AREA_AT.HDR + 40, true));
    inc.deliver(AREA.slice(AREA_AT.NAME, AREA_AT.NAME + nameLength), AREA.slice(AREA_AT.CONTROL, AREA_AT.CONTROL + controlLength),
      VIEW.getInt32(AREA_AT.HDR + 48, true));
  }
  return r;
}

/**
 * Receives a message: waits for one unless the socket is non-blocking or the call says
 * MSG_DONTWAIT; with MSG_WAITALL a blocking stream socket waits until the buffer is full, the
 * peer closes, an error comes or SO_RCVTIMEO passes, and returns what it got.
 */
export function receive(f: OpenFile, inc: Incoming, flags: number): SyscallResult {
  const part = (done: number, limit: number) => receivePart(inc, f, done, limit, flags);
  // Urgent data is taken or not there (tcp_recv_urg never waits, and poll never says POLLIN for it).
  if (flags & (MSG.DONTWAIT | MSG.OOB)) return part(0, inc.total);
  if (!(flags & MSG.WAITALL) || flags & (MSG.PEEK | MSG.TRUNC) || !isStream(f)) return transfer(f, POLLIN, () => part(0, inc.total));
  let done = 0;
  let deadline: number | undefined | null = null; // null: not waited yet
  const run = (): SyscallResult => {
    for (;;) {
      const r = part(done, inc.total - done);
      if (r === -E.EAGAIN) break;
      if (r < 0) return done > 0 ? done : r;
      done += r;
      if (r === 0 || done >= inc.total) return done;
    }
    if (f.flags & O.NONBLOCK) return done > 0 ? done : -E.EAGAIN;
    if (deadline === null) deadline = socketDeadline(f, POLLIN);
    else if (deadline !== undefined && monotonicMs() >= deadline) return done > 0 ? done : -E.EAGAIN;
    return block({ kind: 'fd', hostFd: f.hostFd, events: POLLIN, deadline }, run,
      { moved: () => done, restartable: deadline === undefined });
  };
  return run();
}

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

/** Host spans of a guest iovec array (EMSGSIZE beyond UIO_MAXIOV, EFAULT). */
function iovecSpans(t: Thread, iov: number, iovlen: number, access: 'read' | 'write'): Spans {
  if (iovlen > UIO_MAXIOV) throw new Errno(E.EMSGSIZE);
  const iovs = new DataView(t.mm.read(iov, iovlen * 16).buffer);
  const spans: Spans = [];
  for (let i = 0; i < iovlen; i++) {
    spans.push(...t.mm.hostSpans(Number(iovs.getBigUint64(i * 16, true)), Number(iovs.getBigUint64(i * 16 + 8, true)), access));
  }
  return spans;
}

/**
 * Host spans of a guest buffer. With MSG_TRUNC a receive may pass no buffer at all (TCP then
 * discards the bytes without touching it), so a bad one reaches the host as address 0 and
 * the host decides, as Linux would, whether that is EFAULT.
 */
export function bufferSpans(t: Thread, addr: number, len: number, access: 'read' | 'write', flags: number): Spans {
  try {
    return t.mm.hostSpans(addr, len, access);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== E.EFAULT || access === 'read' || !(flags & MSG.TRUNC)) throw e;
    return [[0, len]];
  }
}

/** sendto's message. */
export function outgoingBuffer(t: Thread, f: OpenFile, bufP: number, len: number, addrP: number, addrLen: number): Outgoing {
  const destination = addrP ? sendDestination(t, f, addrP, addrLen) : null;
  const spans = bufferSpans(t, bufP, len, 'read', 0);
  return { spans, total: len, destination, control: null };
}

/** recvfrom's buffer; the sender's name goes to addrP/lenP. */
export function incomingBuffer(t: Thread, f: OpenFile, bufP: number, len: number, flags: number, addrP: number, lenP: number): Incoming {
  const spans = bufferSpans(t, bufP, len, 'write', flags);
  return { spans, total: len, wantsName: addrP !== 0, controlRoom: 0, deliver: (name) => guestSockaddr(t, f, name, 'peer', addrP, lenP) };
}

/** sendmsg's message: its iovecs, its destination (msg_name, ignored when msg_namelen is 0, as Linux does) and control data. */
export function outgoingMsghdr(t: Thread, f: OpenFile, msgP: number): Outgoing {
  const m = readMsghdr(t, msgP);
  const spans = iovecSpans(t, m.iov, m.iovlen, 'read');
  // Room for the control data (ENOBUFS beyond it, as Linux's optmem limit gives).
  if (m.control && m.controllen > AREA_AT.CONTROL_MAX) throw new Errno(E.ENOBUFS);
  const control = m.control && m.controllen ? hostControl(t, t.mm.read(m.control, m.controllen)) : null;
  const destination = m.name && m.namelen ? sendDestination(t, f, m.name, m.namelen) : null;
  return { spans, total: total(spans), destination, control };
}

/** recvmsg's buffers; the name, control data (received fds installed), their lengths and msg_flags go back into the msghdr. */
export function incomingMsghdr(t: Thread, f: OpenFile, msgP: number, flags: number): Incoming {
  const m = readMsghdr(t, msgP);
  const spans = iovecSpans(t, m.iov, m.iovlen, 'write');
  const deliver = (name: Uint8Array, received: Uint8Array, hostFlags: number) => {
    if (m.name) {
      const guest = guestName(t, f, name, 'peer');
      t.mm.write(m.name, guest.subarray(0, Math.min(guest.length, m.namelen)));
      t.mm.writeU32(msgP + 8, guest.length);
    }
    const { control, truncated } = installReceived(t, received, m.control, (flags & MSG.CMSG_CLOEXEC) !== 0);
    if (control.length) t.mm.write(m.control, control);
    t.mm.writeU64(msgP + 40, control.length);
    // The host always got MSG_CMSG_CLOEXEC; msg_flags echoes it only when the guest asked.
    t.mm.writeU32(msgP + 48, (hostFlags & ~MSG.CMSG_CLOEXEC) | (flags & MSG.CMSG_CLOEXEC) | (truncated ? MSG.CTRUNC : 0));
  };
  return { spans, total: total(spans), wantsName: m.name !== 0, controlRoom: m.control ? m.controllen : 0, deliver };
}

/**
 * sendmmsg and recvmmsg: message i is step(i), which may wait; after each one that succeeds
 * done(i, result) records it and says whether to stop. A failure after some messages ends the
 * call with their count, as does a signal.
 */
export function eachMessage(count: number, step: (i: number) => SyscallResult, done: (i: number, r: number) => boolean): SyscallResult {
  let n = 0;
  const settle = (r: SyscallResult): SyscallResult => {
    if (typeof r !== 'number') {
      if (r.kind !== 'block') return r;
      return { ...r, resume: () => settle(r.resume()), moved: () => n };
    }
    if (r < 0) return n > 0 ? n : r;
    const stop = done(n, r);
    n++;
    return n >= count || stop ? n : settle(step(n));
  };
  return count === 0 ? 0 : settle(step(0));
}
