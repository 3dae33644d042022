// The machine: guest memory, the control block, and one piscina worker per vCPU.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CONTROL_BYTES, Control, MachineState } from '../shared-mem/layout.js';
import { constants as osConstants } from 'node:os';
import { ringDoorbell } from '../shared-mem/doorbell.js';
import { requestPreempt } from '../shared-mem/preempt.js';
import { startTicker } from './ticker.js';
import { ExecSlot, SLOT_BYTES } from '../shared-mem/exec-slot.js';
import type { BootSpec } from '../cpu-worker/boot.js';
import type { VcpuResult, VcpuTask } from '../cpu-worker/worker.js';
import { MachineMonitor } from './monitor/machine-monitor.js';
import { RuntimeDirError } from './monitor/runtime-dir.js';
import type { KvmTask } from '../cpu-worker/kvm/kvm-vcpu.js';
import { createKvmVm, probeKvm } from '../cpu-worker/kvm/kvm-vm.js';
import { ConsoleDevice } from './console/console-device.js';
import { connectTerminal, terminalSize } from './console/terminal.js';
import { HostPtyError } from './console/host-pty.js';
import { formatExitStats } from './exit-stats.js';
import { GuestClock } from './guest-clock.js';

/** How guest code runs: emulated by Unicorn, on KVM vCPUs, or KVM when it works. */
export type Accel = 'unicorn' | 'kvm' | 'auto';

export interface MachineConfig {
  cpus: number;
  accel: Accel;
  /** Print the KVM exit profile on stderr at the end (--exit-stats). */
  exitStats: boolean;
  memBytes: number;
  /** Most processes alive at once (fork beyond it gives EAGAIN). */
  maxProcs: number;
  /**
   * The guest's console: starling's own standard streams (stdio), or a pty starling owns
   * (pty), shown on starling's terminal and open to `starling console` clients.
   */
  console: 'stdio' | 'pty';
  boot: BootSpec;
  monitor: {
    /** The machine's name in the runtime directory (null: generated from the program's). */
    name: string | null;
    /** The monitor's port on 127.0.0.1 (null: a free one, not announced unless stderr is a terminal). */
    port: number | null;
    /** The event log's path (null: NAME.events.jsonl in the runtime directory). */
    eventLog: string | null;
  };
}

export type MachineOutcome = { status: number } | { error: string; exitCode: number };

/**
 * What starling receives that the guest should get instead: Ctrl-C, Ctrl-\\, Ctrl-Z, a hang-up,
 * a polite stop, and (when the guest shares starling's terminal) a change of window size.
 */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGHUP', 'SIGTERM'];
const FORWARDED_WITH_STDIO: NodeJS.Signals[] = [...FORWARDED, 'SIGWINCH'];
/** Three Ctrl-C within this many ms end the machine even if the guest ignores SIGINT. */
const FORCE_WINDOW_MS = 2000;
/** After SIGTERM or SIGHUP, the first process gets this long to end before it gets SIGKILL (as a container's stop). */
const STOP_GRACE_MS = 5000;

/**
 * A container's stop: the signal (SIGTERM, or the host's SIGHUP) now, SIGKILL once the grace
 * period is over. Host SIGTERM and SIGHUP stop the first process this way, `starling stop`
 * every process; the first stop starts the one grace period, and its send delivers the SIGKILL.
 */
class StopGrace {
  private timer: NodeJS.Timeout | null = null;

  begin(send: (sig: number) => void, sig: number = osConstants.signals.SIGTERM): void {
    if (!this.timer) {
      this.timer = setTimeout(() => send(osConstants.signals.SIGKILL), STOP_GRACE_MS);
      this.timer.unref();
    }
    send(sig);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * A signal from outside for the guest: vCPU 0, where the first process lives, picks it up (its
 * engine is asked to stop so it does so at once) and sends it on, the terminal's signals to
 * the console's foreground group, the others to the first process.
 */
function postHostSignal(control: Int32Array, sig: number): void {
  Atomics.or(control, Control.HOST_SIGNALS, 1 << (sig - 1));
  requestPreempt(control, 0);
  ringDoorbell(control, 0);
}

/** Forwards the signals starling receives to the guest (see FORWARDED). */
function forwardHostSignals(control: Int32Array, grace: StopGrace, signals: NodeJS.Signals[]): () => void {
  let interrupts: number[] = [];
  const send = (sig: number) => postHostSignal(control, sig);
  const handlers = signals.map((name) => {
    const handler = () => {
      if (name === 'SIGINT') {
        const now = Date.now();
        interrupts = [...interrupts.filter((t) => now - t < FORCE_WINDOW_MS), now];
        if (interrupts.length >= 3) process.exit(130);
      }
      if (name === 'SIGTERM' || name === 'SIGHUP') grace.begin(send, osConstants.signals[name]);
      else send(osConstants.signals[name]);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return () => handlers.forEach(([name, handler]) => process.off(name, handler));
}

/**
 * starling's own terminal as a client of the console: output to stdout, keys and window changes
 * in. It stays attached to the end, so the guest's last output reaches stdout as the device closes.
 */
function showConsole(device: ConsoleDevice): () => void {
  process.stdout.write(device.attach({ output: (bytes) => void process.stdout.write(bytes) }));
  return connectTerminal({ input: (bytes) => device.input(bytes), resize: (size) => device.resize(size) });
}

const VCPU_WORKER = fileURLToPath(new URL('../cpu-worker/worker.js', import.meta.url));

/** The KVM VM for --accel kvm, and for auto when /dev/kvm works (auto says what it chose, and why). */
function chooseBackend(accel: Accel, memory: SharedArrayBuffer): KvmTask | { error: string } | null {
  if (accel === 'unicorn') return null;
  const probe = probeKvm();
  if (!probe.ok) {
    if (accel === 'kvm') return { error: `--accel kvm: ${probe.reason}` };
    process.stderr.write(`starling: --accel auto: unicorn (${probe.reason})\n`);
    return null;
  }
  if (accel === 'auto') process.stderr.write(`starling: --accel auto: kvm (/dev/kvm works: ${probe.pvm ? 'PVM, shadow paging' : 'hardware virtualisation'})\n`);
  const kvm = createKvmVm(memory, probe);
  if (kvm.irqchipMissing) process.stderr.write(`starling: kvm: ${kvm.irqchipMissing}: vCPUs are kicked by a host signal and time-sliced by the ticker\n`);
  return kvm;
}

/** Boots the machine, runs the first program to its end, shuts every vCPU down. */
export async function runMachine(config: MachineConfig): Promise<MachineOutcome> {
  // The workers boot (about 35 ms each before they load a module) while the machine is set up.
  const pool = new Piscina({
    filename: VCPU_WORKER,
    minThreads: config.cpus,
    maxThreads: config.cpus,
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
    maxQueue: config.cpus,
  });
  const clock = new GuestClock();
  const release = async () => {
    clock.stop();
    await pool.destroy();
  };
  const failed = async (error: string) => {
    await release();
    return { error, exitCode: 125 };
  };
  const memory = new SharedArrayBuffer(0, { maxByteLength: config.memBytes });
  const kvm = chooseBackend(config.accel, memory);
  if (kvm && 'error' in kvm) return failed(kvm.error);
  const controlBuffer = new SharedArrayBuffer(CONTROL_BYTES);
  const control = new Int32Array(controlBuffer);
  control[Control.NEXT_ID] = 1;
  control[Control.PROCESS_COUNT] = 1; // the first process
  control[Control.MAX_PROCS] = config.maxProcs;
  if (kvm?.irqchip) control[Control.KVM_MSI_VM_FD] = kvm.vmFd;
  const bootTimeMs = Number(process.hrtime.bigint()) / 1e6;
  const grace = new StopGrace();
  let monitor: MachineMonitor;
  let consoleDevice: ConsoleDevice | null = null;
  try {
    if (config.console === 'pty') consoleDevice = ConsoleDevice.open(terminalSize(), (sig) => postHostSignal(control, sig));
    monitor = new MachineMonitor({
      ...config.monitor, program: Buffer.from(config.boot.program, 'latin1').toString('utf8'), cpus: config.cpus, control,
      bootAt: bootTimeMs, stop: (signalAll) => grace.begin(signalAll), console: consoleDevice, published: config.boot.network.publish,
    });
  } catch (e) {
    consoleDevice?.close();
    if (e instanceof RuntimeDirError || e instanceof HostPtyError) return failed(e.message);
    await release();
    throw e;
  }
  const slots = new SharedArrayBuffer(SLOT_BYTES * config.cpus);
  const tasks: Array<Promise<VcpuResult>> = [];
  for (let cpu = 0; cpu < config.cpus; cpu++) {
    const port = cpu === 0 ? monitor.link.agentPort : null;
    const task: VcpuTask = {
      cpu, cpus: config.cpus, memory, control: controlBuffer, slots, bootTimeMs, boot: cpu === 0 ? config.boot : null, monitor: port, kvm,
      console: cpu === 0 ? consoleDevice?.guestEnd ?? null : null, guestClockFd: cpu === 0 ? clock.fd : null,
    };
    tasks.push(pool.run(task, { transferList: port ? [port] : [] }));
  }
  // A vCPU worker that dies leaves threads lent to it stranded: the machine cannot go on.
  const workerFailure = Promise.race(tasks.slice(1).map((task, i) => task.then(
    () => new Promise<never>(() => {}),
    (e: unknown) => ({ error: `vCPU ${i + 1} failed: ${e instanceof Error ? (process.env.STARLING_DEBUG ? e.stack : e.message) : String(e)}`, exitCode: 125 } as MachineOutcome),
  )));
  // The endpoint starts while the machine boots; a --monitor port that cannot be had ends it.
  const monitorFailure = monitor.listen().then(() => new Promise<never>(() => {}), (e: Error) => ({ error: e.message, exitCode: 125 } as MachineOutcome));
  // KVM vCPUs with an irqchip tick themselves (their LAPIC timer).
  const stopTicker = kvm?.irqchip ? null : startTicker(control, config.cpus);
  const stopForwarding = forwardHostSignals(control, grace, consoleDevice ? FORWARDED : FORWARDED_WITH_STDIO);
  const disconnectTerminal = consoleDevice && showConsole(consoleDevice);
  let outcome: MachineOutcome = { error: 'the first vCPU returned no result', exitCode: 125 };
  try {
    const result = await Promise.race([tasks[0], workerFailure, monitorFailure]);
    outcome = result ?? outcome;
  } finally {
    stopTicker?.();
    stopForwarding();
    grace.cancel();
    Atomics.store(control, Control.STATE, MachineState.SHUTTING_DOWN);
    for (let cpu = 0; cpu < config.cpus; cpu++) requestPreempt(control, cpu); // a vCPU still in guest code (a daemon's thread) stops
    ringDoorbell(control, 0);
    for (let cpu = 1; cpu < config.cpus; cpu++) new ExecSlot(slots, cpu).wake();
    await Promise.allSettled(tasks);
    await release();
    disconnectTerminal?.();
    consoleDevice?.close();
    await monitor.close(outcome);
    if (config.exitStats) process.stderr.write(kvm ? formatExitStats(kvm.exits, config.cpus) : 'starling: --exit-stats: no KVM exits, the machine ran on Unicorn\n');
  }
  return outcome;
}
