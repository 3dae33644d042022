// The monitor's endpoint: an HTTP server on 127.0.0.1 that serves the live page (page.ts) and
// the WebSocket protocol (protocol.ts, docs/MONITOR.md). A client proves it is the machine's
// user with the token from the runtime directory (hello as its first message); anything else
// first, or a message that is not the protocol, is answered with one error and the
// connection is closed. Nothing a client does, or fails to do, reaches the guest except the
// requests it makes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocketServer, WebSocket, RawData } from 'ws';
import { AgentError, type KernelLink } from './kernel-link.js';
import { binaryFrame, CLOSE, signalNumber, type ClientMessage, type CopyEntry, type MachineInfo, type ServerMessage } from './protocol.js';
import { statsBetween } from './stats.js';
import { CopyIn, copyOut } from './transfer.js';
import { listMachines } from './runtime-dir.js';
import { MONITOR_PAGE } from './page.js';
import type { KernelSnapshot } from '../../cpu-worker/monitor-agent.js';
import type { ConsoleClient, ConsoleDevice } from '../console/console-device.js';

/** How long a new connection has to say hello. */
const HELLO_TIMEOUT_MS = 5000;
/** Fastest update a subscriber may ask for, and the default (five a second). */
const MIN_INTERVAL_MS = 100;
const DEFAULT_INTERVAL_MS = 200;
/** How long clients get to answer the close handshake when the machine ends. */
const SHUTDOWN_GRACE_MS = 500;
/** Largest message a client may send (a copy-in sends 1 MiB chunks). */
const MAX_PAYLOAD = 16 * 1024 * 1024;
/**
 * A console client this far behind misses output until it catches up, as a terminal on a serial
 * line without flow control would: a client that stops reading must not hold the guest up.
 */
const CONSOLE_LAG_BYTES = 1024 * 1024;

export interface MonitorOptions {
  port: number;
  token: string;
  info: MachineInfo;
  link: KernelLink;
  /** Monotonic ms at boot (process.hrtime), the base of uptime and first rates. */
  bootAt: number;
  /** starling stop: SIGTERM to every guest process, SIGKILL after the grace period. */
  stop: () => void;
  /** The console clients may attach to (--console pty), or null when it is starling's own stdio. */
  console: ConsoleDevice | null;
}

/** What one connection has going: copies into the guest, and its console attachment, by request id. */
interface Session {
  copies: Map<number, CopyIn>;
  console: { id: number; client: ConsoleClient } | null;
}

interface Subscription {
  id: number;
  intervalMs: number;
  due: number;
  last: KernelSnapshot | null;
}

export class MonitorServer {
  private readonly http: Server;
  /** Created at the first WebSocket upgrade: the ws library costs start-up time a machine nobody watches need not pay. */
  private wss: Promise<WebSocketServer> | null = null;
  private readonly subscriptions = new Map<WebSocket, Subscription>();
  private sampler: NodeJS.Timeout | null = null;
  private sampling = false;
  /** The last snapshot a one-shot stats request saw: the next one's rates are over the time since. */
  private lastShot: KernelSnapshot | null = null;

  private constructor(private readonly options: MonitorOptions) {
    this.http = createServer((req, res) => this.page(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws') return void socket.destroy();
    this.wss ??= import('ws').then(({ WebSocketServer }) => new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD }));
    const wss = await this.wss;
    wss.handleUpgrade(req, socket, head, (ws) => this.connection(ws));
  }

  /** Listens on 127.0.0.1:port (0: a free port); resolves with the port. */
  static async start(options: MonitorOptions): Promise<{ server: MonitorServer; port: number }> {
    const server = new MonitorServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(options.port, '127.0.0.1', () => resolve());
    });
    server.http.unref();
    const address = server.http.address();
    return { server, port: typeof address === 'object' && address ? address.port : options.port };
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    const wss = await this.wss;
    const clients = [...(wss?.clients ?? [])];
    const closed = Promise.all(clients.map((ws) => new Promise((resolve) => ws.once('close', resolve))));
    for (const ws of clients) ws.close(CLOSE.SHUTDOWN, 'machine stopped');
    // A client that does not answer the close handshake must not hold the machine's exit up.
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([closed, grace]);
    for (const ws of clients) ws.terminate();
    wss?.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private tokenMatches(token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const a = Buffer.from(token), b = Buffer.from(this.options.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } else if (!this.tokenMatches(url.searchParams.get('token'))) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('a valid ?token= is needed (see starling ps)\n');
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(MONITOR_PAGE);
    }
  }

  private connection(ws: WebSocket): void {
    let authenticated = false;
    const session: Session = { copies: new Map(), console: null };
    const hello = setTimeout(() => refuse(ws, CLOSE.BAD_TOKEN, 0, 'no hello'), HELLO_TIMEOUT_MS);
    ws.on('message', (raw, isBinary) => {
      if (!authenticated) {
        const m = parse(raw, isBinary);
        if (!m || m.type !== 'hello') return refuse(ws, CLOSE.MALFORMED, m?.id ?? 0, 'the first message must be hello');
        if (!this.tokenMatches(m.token)) return refuse(ws, CLOSE.BAD_TOKEN, m.id, 'bad token');
        authenticated = true;
        clearTimeout(hello);
        return send(ws, { id: m.id, ok: true, machine: this.options.info });
      }
      if (isBinary) {
        const bytes = raw as Buffer;
        const id = bytes.length >= 4 ? bytes.readUInt32LE(0) : -1;
        if (session.console?.id === id) return this.options.console!.input(bytes.subarray(4));
        const copy = session.copies.get(id);
        if (!copy) return refuse(ws, CLOSE.MALFORMED, 0, 'binary frame outside a copy-in or console');
        return copy.data(bytes.subarray(4));
      }
      const m = parse(raw, false);
      if (!m) return refuse(ws, CLOSE.MALFORMED, 0, 'not a protocol message');
      this.request(ws, m, session).catch((e: unknown) => fail(ws, m.id, e));
    });
    ws.on('close', () => {
      clearTimeout(hello);
      this.unsubscribe(ws);
      for (const copy of session.copies.values()) copy.abort();
      if (session.console) this.options.console!.detach(session.console.client);
    });
    ws.on('error', () => ws.terminate());
  }

  private async request(ws: WebSocket, m: ClientMessage, session: Session): Promise<void> {
    const link = this.options.link;
    const copies = session.copies;
    switch (m.type) {
      case 'hello':
        return send(ws, { id: m.id, ok: true, machine: this.options.info });
      case 'machines':
        return send(ws, { id: m.id, ok: true, machines: listMachines() });
      case 'processes':
      case 'stats': {
        const now = await link.request<KernelSnapshot>({ op: 'snapshot' });
        const stats = statsBetween(this.lastShot, now, this.options.bootAt);
        this.lastShot = now;
        return send(ws, m.type === 'processes' ? { id: m.id, ok: true, processes: stats.processes } : { id: m.id, ok: true, ...stats });
      }
      case 'subscribe': {
        const intervalMs = Math.max(MIN_INTERVAL_MS, Number(m.intervalMs) || DEFAULT_INTERVAL_MS);
        this.subscriptions.set(ws, { id: m.id, intervalMs, due: 0, last: null });
        this.startSampler();
        return send(ws, { id: m.id, ok: true, intervalMs });
      }
      case 'unsubscribe':
        this.unsubscribe(ws);
        return send(ws, { id: m.id, ok: true });
      case 'signal': {
        const sig = signalNumber(m.signal);
        if (sig === null) return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: `unknown signal: ${m.signal}` });
        if (!Number.isInteger(m.pid) || m.pid <= 0) return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: `bad pid: ${m.pid}` });
        await link.request({ op: 'signal', pid: m.pid, sig });
        return send(ws, { id: m.id, ok: true });
      }
      case 'stop':
        send(ws, { id: m.id, ok: true });
        return this.options.stop();
      case 'copy-out':
        await copyOut(link, m.path, {
          entry: (e: CopyEntry) => ws.readyState === ws.OPEN && (send(ws, { id: m.id, type: 'entry', ...e }), true),
          data: (bytes) => new Promise<boolean>((resolve) => {
            if (ws.readyState !== ws.OPEN) return resolve(false);
            ws.send(binaryFrame(m.id, bytes), { binary: true }, (err) => resolve(!err));
          }),
        });
        return send(ws, { id: m.id, ok: true });
      case 'copy-in':
        copies.set(m.id, new CopyIn(link, m.path, typeof m.name === 'string' ? m.name : ''));
        return;
      case 'entry': {
        const copy = copies.get(m.id);
        if (!copy) return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: 'entry outside a copy-in' });
        const { id: _id, type: _type, ...entry } = m;
        return copy.entry(entry as CopyEntry);
      }
      case 'end': {
        const copy = copies.get(m.id);
        if (!copy) return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: 'end outside a copy-in' });
        copies.delete(m.id);
        const path = await copy.finish();
        return send(ws, { id: m.id, ok: true, path: Buffer.from(path, 'latin1').toString('utf8') });
      }
      case 'console':
      case 'console-resize':
      case 'console-detach':
        return this.console(ws, m, session);
      default:
        return refuse(ws, CLOSE.MALFORMED, (m as { id: number }).id, `unknown request type: ${(m as { type: unknown }).type}`);
    }
  }

  private console(ws: WebSocket, m: Extract<ClientMessage, { type: 'console' | 'console-resize' | 'console-detach' }>, session: Session): void {
    const device = this.options.console;
    if (!device) {
      return send(ws, { id: m.id, ok: false, errno: 'ENOTTY', error: "this machine's console is starling's own terminal: start it with --console pty to attach" });
    }
    if (m.type === 'console') {
      if (session.console) return send(ws, { id: m.id, ok: false, errno: 'EBUSY', error: 'this connection is attached already' });
      const client: ConsoleClient = {
        output: (bytes) => {
          if (ws.readyState === ws.OPEN && ws.bufferedAmount < CONSOLE_LAG_BYTES) ws.send(binaryFrame(m.id, bytes), { binary: true });
        },
      };
      session.console = { id: m.id, client };
      send(ws, { id: m.id, ok: true, ...device.size() });
      const recent = device.attach(client);
      if (recent.length) client.output(recent);
      return;
    }
    if (!session.console) return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: 'not attached to the console' });
    if (m.type === 'console-detach') {
      device.detach(session.console.client);
      session.console = null;
      return send(ws, { id: m.id, ok: true });
    }
    const { cols, rows } = m;
    if (![cols, rows].every((n) => Number.isInteger(n) && n > 0 && n <= 0xffff)) {
      return send(ws, { id: m.id, ok: false, errno: 'EINVAL', error: `bad window size: ${cols}x${rows}` });
    }
    device.resize({ cols, rows });
    return send(ws, { id: m.id, ok: true });
  }

  private unsubscribe(ws: WebSocket): void {
    this.subscriptions.delete(ws);
    if (this.subscriptions.size === 0 && this.sampler) {
      clearInterval(this.sampler);
      this.sampler = null;
    }
  }

  /** One timer for every subscriber: a snapshot is taken when any is due, and each gets rates since its last update. */
  private startSampler(): void {
    if (this.sampler) return;
    this.sampler = setInterval(() => void this.sample(), MIN_INTERVAL_MS / 2);
    this.sampler.unref();
  }

  private async sample(): Promise<void> {
    const now = Date.now();
    const due = [...this.subscriptions].filter(([, s]) => s.due <= now);
    if (due.length === 0 || this.sampling) return;
    this.sampling = true;
    try {
      const snapshot = await this.options.link.request<KernelSnapshot>({ op: 'snapshot' });
      for (const [ws, s] of due) {
        if (this.subscriptions.get(ws) !== s || ws.readyState !== ws.OPEN) continue;
        // A client that does not keep up gets no more until it has: updates never queue up.
        if (ws.bufferedAmount > MAX_PAYLOAD) continue;
        send(ws, { id: s.id, type: 'update', ...statsBetween(s.last, snapshot, this.options.bootAt) });
        s.last = snapshot;
        // Due times advance by whole intervals, so sampling latency does not lower the rate.
        s.due = Math.max((s.due || now) + s.intervalMs, now);
      }
    } catch {
      // The machine is shutting down: the server closes soon.
    } finally {
      this.sampling = false;
    }
  }
}

function parse(raw: RawData, isBinary: boolean): ClientMessage | null {
  if (isBinary) return null;
  try {
    const m = JSON.parse(raw.toString()) as ClientMessage;
    return m && typeof m === 'object' && typeof m.type === 'string' && Number.isInteger(m.id) ? m : null;
  } catch {
    return null;
  }
}

function send(ws: WebSocket, m: ServerMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
}

function fail(ws: WebSocket, id: number, e: unknown): void {
  if (e instanceof AgentError) send(ws, { id, ok: false, errno: e.errno, error: e.message });
  else send(ws, { id, ok: false, error: e instanceof Error ? e.message : String(e) });
}

/** One error reply, then the connection is closed. */
function refuse(ws: WebSocket, code: number, id: number, error: string): void {
  send(ws, { id, ok: false, error });
  ws.close(code, error);
}
