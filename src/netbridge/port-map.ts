// Which host port stands for a guest port. By default a guest port is the same port on the
// host (so RTP over UDP, whose ports travel inside the RTSP exchange, keeps working);
// --publish GUEST:HOST moves one TCP or UDP port. Ports travel in sockaddr_in and
// sockaddr_in6 at the same offset (bytes 2-3, network order).

export type Transport = 'tcp' | 'udp';

export interface PublishedPort {
  guest: number;
  host: number;
  transport: Transport;
}

/** What the CLI decides about the guest's network (--publish, --listen-all). */
export interface NetworkConfig {
  publish: PublishedPort[];
  /** Listeners take connections on every host interface, not only loopback. */
  listenAll: boolean;
}

export class PortMap {
  private readonly toHost = new Map<string, number>();
  private readonly toGuest = new Map<string, number>();

  constructor(published: readonly PublishedPort[]) {
    for (const p of published) {
      this.toHost.set(`${p.transport}:${p.guest}`, p.host);
      this.toGuest.set(`${p.transport}:${p.host}`, p.guest);
    }
  }

  get isIdentity(): boolean {
    return this.toHost.size === 0;
  }

  hostPort(transport: Transport, guest: number): number {
    return this.toHost.get(`${transport}:${guest}`) ?? guest;
  }

  /**
   * The guest port a host port stands for. A published host port always reads as its guest
   * port, so a guest that also binds that number itself meets its own published port there.
   */
  guestPort(transport: Transport, host: number): number {
    return this.toGuest.get(`${transport}:${host}`) ?? host;
  }
}

/** The port of an AF_INET or AF_INET6 sockaddr. */
export function sockaddrPort(addr: Uint8Array): number {
  return (addr[2] << 8) | addr[3];
}

/** A copy of an AF_INET or AF_INET6 sockaddr with another port (the same bytes when unchanged). */
export function withSockaddrPort(addr: Uint8Array, port: number): Uint8Array {
  if (sockaddrPort(addr) === port) return addr;
  const copy = addr.slice();
  copy[2] = port >> 8;
  copy[3] = port & 0xff;
  return copy;
}

/** The guest network's host side as the kernel consults it. */
export interface NetworkBridge {
  readonly ports: PortMap;
  readonly listenAll: boolean;
}

export function networkBridge(config: NetworkConfig): NetworkBridge {
  return { ports: new PortMap(config.publish), listenAll: config.listenAll };
}
