// A machine's monitor, as machine.ts starts and ends it: the registration in the runtime
// directory (a name already running is refused before boot), the event log, the link to vCPU
// 0, and the endpoint. The endpoint (and the ws library) is loaded while the machine boots,
// so it adds nothing to start-up.
import type { MachineOutcome } from '../machine.js';
import { EventLog } from './event-log.js';
import { KernelLink } from './kernel-link.js';
import { generateName, Registration, RuntimeDirError } from './runtime-dir.js';
import type { MonitorServer } from './server.js';
import type { ConsoleDevice } from '../console/console-device.js';
import type { PublishedPort } from '../../netbridge/port-map.js';

export interface MachineMonitorOptions {
  name: string | null;
  port: number | null;
  eventLog: string | null;
  /** The first program, as typed (UTF-8). */
  program: string;
  cpus: number;
  control: Int32Array;
  /** Monotonic ms at boot. */
  bootAt: number;
  /** starling stop: begin the machine's grace period with this way of signalling every process. */
  stop: (signalAll: (sig: number) => void) => void;
  /** The console clients may attach to (--console pty), or null when it is starling's own stdio. */
  console: ConsoleDevice | null;
  /** --publish: logged at start, so the log says which host port each moved guest port is. */
  published: readonly PublishedPort[];
}

export class MachineMonitor {
  readonly link: KernelLink;
  private readonly registration: Registration;
  private readonly eventLog: EventLog;
  private server: MonitorServer | null = null;
  private listening: Promise<void> | null = null;

  /** Throws RuntimeDirError when the name is taken or the runtime directory is unusable. */
  constructor(private readonly options: MachineMonitorOptions) {
    this.registration = new Registration(options.name ?? generateName(options.program));
    this.eventLog = new EventLog(options.eventLog ?? this.registration.eventLog);
    this.link = new KernelLink(options.control, (e) => this.eventLog.write(e));
  }

  /** Starts the endpoint and publishes the registration; rejects with a RuntimeDirError if the port cannot be had. */
  listen(): Promise<void> {
    this.listening ??= this.start();
    return this.listening;
  }

  private async start(): Promise<void> {
    const { MonitorServer } = await import('./server.js');
    const o = this.options;
    const info = { name: this.registration.name, pid: process.pid, cpus: o.cpus, program: o.program, startedAt: Date.now() };
    const signalAll = (sig: number) => void this.link.request({ op: 'signal', pid: 'all', sig }).catch(() => {});
    let port: number;
    try {
      ({ server: this.server, port } = await MonitorServer.start({
        port: o.port ?? 0, token: this.registration.token, info, link: this.link, bootAt: o.bootAt, stop: () => o.stop(signalAll), console: o.console,
      }));
    } catch (e) {
      throw new RuntimeDirError(`--monitor: cannot listen on 127.0.0.1:${o.port}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    this.registration.publish({ ...info, port, eventLog: this.eventLog.path });
    this.eventLog.write({ event: 'machine-start', name: info.name, pid: info.pid, cpus: info.cpus, program: info.program, port });
    for (const p of o.published) this.eventLog.write({ event: 'publish', transport: p.transport, port: p.guest, hostPort: p.host });
    if (o.port !== null || process.stderr.isTTY) {
      process.stderr.write(`starling: machine ${info.name}: monitor at http://127.0.0.1:${port}/?token=${this.registration.token}\n`);
    }
  }

  /** Never holds the machine's exit up for long: the endpoint gets CLOSE_WAIT_MS to finish starting and to close. */
  async close(outcome: MachineOutcome): Promise<void> {
    await bounded(this.listening ?? Promise.resolve());
    this.eventLog.write({ event: 'machine-exit', ...('status' in outcome ? { status: outcome.status } : { error: outcome.error }) });
    this.registration.remove();
    this.link.close();
    await bounded(this.server?.close() ?? Promise.resolve());
    this.eventLog.close();
  }
}

const CLOSE_WAIT_MS = 2000;

async function bounded(p: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
  clearTimeout(timer);
}
