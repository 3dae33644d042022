// A monitor client: finds a machine in the runtime directory, connects to its endpoint and
// says hello with its token; then requests with replies, and the streams some requests
// produce (updates, copied entries and their bytes). The CLI commands and the tests use it.
import { WebSocket } from 'ws';
import { findMachine, type MachineEntry } from './runtime-dir.js';
import { binaryFrame, type ClientMessage, type ServerMessage } from './protocol.js';

export class MonitorError extends Error {}

/** Requests whose stream goes on after their reply: a subscription's updates, the console's output. */
const STREAMING = new Set<string>(['subscribe', 'console']);

type Reply = Extract<ServerMessage, { ok: boolean }>;
type Streamed = Exclude<ServerMessage, { ok: boolean }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  resolve: (m: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  onStream?: (m: Streamed) => void;
  onBinary?: (bytes: Buffer) => void;
  /** The request streams after its reply (STREAMING). */
  keepStreaming?: boolean;
}

export class MonitorClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the connection ended, once it has. */
  private ended: Error | null = null;
  private readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket, readonly machine: MachineEntry) {
    ws.on('message', (raw, isBinary) => {
      const bytes = raw as Buffer;
      if (isBinary) return this.pending.get(bytes.readUInt32LE(0))?.onBinary?.(bytes.subarray(4));
      const m = JSON.parse(bytes.toString()) as ServerMessage;
      const p = this.pending.get(m.id);
      if (!p) return;
      if ('ok' in m) {
        // A subscription's updates and the console's output keep coming under its id after the reply.
        if (!m.ok || p.keepStreaming !== true) this.pending.delete(m.id);
        if (m.ok) p.resolve(m as Record<string, unknown>);
        else p.reject(new MonitorError((m as { error: string }).error));
      } else {
        p.onStream?.(m);
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.ended = new MonitorError(code === 1001 ? `machine ${machine.name} stopped` : `connection to ${machine.name} closed${reason.length ? `: ${reason}` : ''}`);
      for (const p of this.pending.values()) p.reject(this.ended);
      this.pending.clear();
      resolve();
    }));
  }

  /** Connects to the machine called name (errors: no such machine, bad token, unreachable). */
  static async connect(name: string, token?: string): Promise<MonitorClient> {
    const found = findMachine(name);
    const ws = new WebSocket(`ws://127.0.0.1:${found.entry.port}/ws`, { maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      const unreachable = (why: string) => reject(new MonitorError(`cannot reach machine ${name}: ${why}`));
      ws.once('open', () => resolve());
      ws.once('error', (e) => unreachable((e as NodeJS.ErrnoException).code ?? e.message));
      ws.once('close', () => unreachable('connection closed'));
    });
    ws.on('error', () => {});
    const client = new MonitorClient(ws, found.entry);
    await client.request({ type: 'hello', token: token ?? found.token });
    return client;
  }

  request<T = Record<string, unknown>>(message: WithoutId<ClientMessage>, streams: Omit<Pending, 'resolve' | 'reject'> = {}): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: Record<string, unknown>) => void, reject, ...streams, keepStreaming: STREAMING.has(message.type) });
      this.ws.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Starts a request whose id the caller needs before the reply (copy-in and console send more under it). */
  begin<T = Record<string, unknown>>(message: WithoutId<ClientMessage>, streams: Omit<Pending, 'resolve' | 'reject'> = {}): { id: number; reply: Promise<T> } {
    const id = this.nextId;
    return { id, reply: this.request<T>(message, streams) };
  }

  send(message: ClientMessage): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends file bytes for request id; resolves once they are handed to the socket. */
  sendBinary(id: number, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(binaryFrame(id, bytes), { binary: true }, (e) => (e ? reject(e) : resolve())));
  }

  /** Resolves when the connection ends (the machine stopped, or close()). */
  untilClosed(): Promise<void> {
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}
