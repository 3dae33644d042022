// What the guest network may reach on the host. Guest sockets are host sockets (kernel/sys-net.ts)
// and a guest port is the same host port, so host clients reach guest listeners directly; the
// other direction is limited here: outbound traffic only to loopback, and abstract AF_UNIX names
// in a namespace of the machine's own.

const AF_INET = 2, AF_INET6 = 10;

/** The prefix of this machine's abstract AF_UNIX names on the host. */
export const ABSTRACT_PREFIX = `starling-${process.pid}-`;

/** Whether a sockaddr (family first) names a loopback address: 127/8, ::1 or ::ffff:127/104. */
export function isLoopback(family: number, addr: Uint8Array): boolean {
  if (family === AF_INET) return addr[4] === 127;
  if (family !== AF_INET6) return true;
  const a = addr.subarray(8, 24);
  const mapped = a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
  if (mapped) return a[12] === 127;
  return a.subarray(0, 15).every((b) => b === 0) && a[15] === 1;
}

/** An AF_INET or AF_INET6 sockaddr as text, for the event log: its address and port. */
export function inetEndpoint(a: Uint8Array): { address: string; port: number } {
  const family = a[0] | (a[1] << 8);
  const port = (a[2] << 8) | a[3];
  if (family === AF_INET) return { address: [...a.subarray(4, 8)].join('.'), port };
  const groups = [];
  for (let i = 8; i < 24; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  return { address: groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::'), port };
}
