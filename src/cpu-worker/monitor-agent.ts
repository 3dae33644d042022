// vCPU 0's side of the monitor (main/monitor/): it answers the main thread's requests, which
// arrive on a MessagePort, from the kernel state only this worker holds. The run loop serves
// them when the main thread raises MONITOR_REQUEST (it also stops the engine and rings the
// doorbell, as for a host signal), so a busy guest is interrupted once per request and an idle
// machine pays nothing.
//
// Files are reached as the guest sees them: every path goes through the VFS (the rootfs jail,
// binds, /proc), never the host's namespace. An opened file travels to the main thread as a
// host fd number: fds belong to the whole host process, so the main thread reads or writes
// the bytes itself and vCPU 0 only resolves the path.
import { readdirSync } from 'node:fs';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Control } from '../shared-mem/layout.js';
import { E, ERRNO_MESSAGE, ERRNO_NAME, Errno } from '../kernel/errno.js';
import { O } from '../kernel/files.js';
import { hostSyscall, HostNr } from '../kernel/host/libc.js';
import { AT } from '../kernel/vfs/host.js';
import { makeDirectory, makeSymlink } from '../kernel/sys-dir.js';
import { Policy } from '../kernel/sched/run-queue.js';
import { sendSignal, type SigInfo } from '../kernel/signals.js';
import { SYSCALL_NAMES } from '../kernel/syscall-names.js';
import { monotonicMs } from '../kernel/sys-time.js';
import type { MachineEvent } from '../kernel/events.js';
import type { Process, Thread } from '../kernel/task.js';
import type { CpuState } from './cpu-state.js';

/** What the main thread may ask. Paths are absolute guest paths. */
export type AgentRequest =
  | { id: number; op: 'snapshot' }
  | { id: number; op: 'signal'; pid: number | 'all'; sig: number }
  | { id: number; op: 'open'; path: string; create: { mode: number } | null }
  | { id: number; op: 'list'; path: string }
  | { id: number; op: 'mkdir'; path: string; mode: number }
  | { id: number; op: 'symlink'; path: string; target: string };

/** An opened guest path: a host fd the receiver must close, or what a symlink points to. */
export type Opened = { fd: number } | { symlink: string };

export type AgentReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; errno: string; error: string };

/** What vCPU 0 posts besides replies. */
export interface AgentEvent {
  kind: 'event';
  event: MachineEvent & { time: string };
}

export interface ThreadSnapshot {
  tid: number;
  comm: string;
  state: 'running' | 'runnable' | 'sleeping' | 'stopped';
  policy: string;
  /** Real-time priority 1..99 for SCHED_FIFO/RR, else 0. */
  priority: number;
  nice: number;
  affinity: number[];
  /** The vCPU executing it now, or null. */
  cpu: number | null;
  /** The vCPU it runs on, last ran on, or is queued for. */
  lastCpu: number;
  cpuMs: number;
  syscalls: number;
}

export interface ProcessSnapshot {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  comm: string;
  cmdline: string[];
  state: 'alive' | 'stopped' | 'zombie';
  threads: ThreadSnapshot[];
}

export interface CpuSnapshot {
  cpu: number;
  busyMs: number;
  syscalls: number;
  traps: number;
  switches: number;
  /** The thread executing there now, or null when idle. */
  tid: number | null;
}

export interface KernelSnapshot {
  /** Monotonic ms when it was taken (the base of every rate). */
  at: number;
  cpus: CpuSnapshot[];
  processes: ProcessSnapshot[];
  /** Syscalls made since boot, by name (only names called at least once). */
  syscalls: Record<string, number>;
}

/** What the agent needs of vCPU 0's scheduler. */
export interface KernelView {
  readonly cpus: readonly CpuState[];
  readonly syscallCounts: Float64Array;
  processes(): Iterable<Process>;
  process(pid: number): Process | undefined;
}

const POLICY_NAMES: Record<number, string> = {
  [Policy.OTHER]: 'SCHED_OTHER', [Policy.FIFO]: 'SCHED_FIFO', [Policy.RR]: 'SCHED_RR', [Policy.BATCH]: 'SCHED_BATCH', [Policy.IDLE]: 'SCHED_IDLE',
};
const SI_USER = 0;
const F_DUPFD_CLOEXEC = 1030;
const INIT_PID = 1;

export class MonitorAgent {
  constructor(private readonly port: MessagePort, private readonly control: Int32Array, private readonly view: KernelView) {}

  /** Serves every request posted since the last call, if the main thread said there are any. */
  serve(): void {
    if (!Atomics.exchange(this.control, Control.MONITOR_REQUEST, 0)) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const request = m.message as AgentRequest;
      this.port.postMessage(this.answer(request));
    }
  }

  emit(event: MachineEvent): void {
    const message: AgentEvent = { kind: 'event', event: { time: new Date().toISOString(), ...event } };
    this.port.postMessage(message);
  }

  private answer(request: AgentRequest): AgentReply {
    try {
      return { id: request.id, ok: true, value: this.perform(request) };
    } catch (e) {
      if (e instanceof Errno) {
        return { id: request.id, ok: false, errno: ERRNO_NAME.get(e.errno) ?? String(e.errno), error: ERRNO_MESSAGE.get(e.errno) ?? e.message };
      }
      return { id: request.id, ok: false, errno: 'EIO', error: e instanceof Error ? e.message : String(e) };
    }
  }

  private perform(request: AgentRequest): unknown {
    switch (request.op) {
      case 'snapshot': return this.snapshot();
      case 'signal': return this.signal(request.pid, request.sig);
      case 'open': return this.open(request.path, request.create);
      case 'list': return this.list(request.path);
      case 'mkdir': return makeDirectory(this.viewer(), AT.FDCWD, request.path, request.mode);
      case 'symlink': return makeSymlink(this.viewer(), request.target, AT.FDCWD, request.path);
    }
  }

  snapshot(): KernelSnapshot {
    const now = monotonicMs();
    const cpus = this.view.cpus.map((c) => ({
      cpu: c.cpu,
      busyMs: c.busyMs + (c.running ? now - c.runningSince : 0),
      syscalls: c.syscalls,
      traps: c.traps,
      switches: c.switches,
      tid: c.running?.tid ?? null,
    }));
    const onCpu = new Map<Thread, number>();
    for (const c of this.view.cpus) if (c.running) onCpu.set(c.running, c.cpu);
    const processes: ProcessSnapshot[] = [];
    for (const p of this.view.processes()) {
      processes.push(processSnapshot(p, onCpu, now, this.view.cpus));
      for (const child of p.children) if (child.exitStatus !== null) processes.push(zombieSnapshot(child));
    }
    processes.sort((a, b) => a.pid - b.pid);
    const syscalls: Record<string, number> = {};
    this.view.syscallCounts.forEach((n, nr) => {
      if (n) syscalls[SYSCALL_NAMES[nr] ?? String(nr)] = n;
    });
    return { at: now, cpus, processes, syscalls };
  }

  /** kill(2) from outside the machine: SI_USER from uid 0; 'all' is every process (a machine stop). */
  private signal(pid: number | 'all', sig: number): number {
    if (!Number.isInteger(sig) || sig < 0 || sig > 64) throw new Errno(E.EINVAL);
    const info: SigInfo = { signo: sig, code: SI_USER, pid: 0, uid: 0 };
    const targets = pid === 'all' ? [...this.view.processes()] : [this.view.process(pid)];
    if (targets.some((p) => !p) || targets.length === 0) throw new Errno(E.ESRCH);
    for (const p of targets) sendSignal(p!, null, info);
    return targets.length;
  }

  /**
   * Opens a guest path without following a final symlink (a symlink is reported, not opened),
   * non-blocking so that a FIFO cannot hang vCPU 0; with create, makes or truncates a file
   * for writing.
   */
  private open(path: string, create: { mode: number } | null): Opened {
    const t = this.viewer();
    const vfs = t.kernel.vfs;
    const flags = create ? O.WRONLY | O.CREAT | O.TRUNC | O.NOFOLLOW : O.RDONLY | O.NOFOLLOW | O.NONBLOCK;
    try {
      const file = vfs.open(t, AT.FDCWD, path, flags, create?.mode ?? 0);
      try {
        const fd = hostSyscall(HostNr.fcntl, file.hostFd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) throw new Errno(-fd);
        return { fd };
      } finally {
        file.unref();
      }
    } catch (e) {
      if (!(e instanceof Errno) || e.errno !== E.ELOOP || create) throw e;
      return { symlink: vfs.lookup(t, AT.FDCWD, path, { follow: false }, (r) => vfs.readlink(r)) };
    }
  }

  /** The names in a guest directory (without . and ..). */
  private list(path: string): string[] {
    const t = this.viewer();
    const file = t.kernel.vfs.open(t, AT.FDCWD, path, O.RDONLY | O.DIRECTORY | O.NOFOLLOW, 0);
    try {
      if (file.syntheticDir) return file.syntheticDir.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
      // The host lists the directory the jail resolved (through its fd), so no host path is looked up.
      return readdirSync(`/proc/self/fd/${file.hostFd}`, { encoding: 'latin1' });
    } finally {
      file.unref();
    }
  }

  /** Whose view of the filesystem requests use: pid 1's (it lives as long as the machine). */
  private viewer(): Thread {
    const init = this.view.process(INIT_PID);
    const t = init && [...init.threads][0];
    if (!t) throw new Errno(E.ESRCH);
    return t;
  }
}

function processSnapshot(p: Process, onCpu: Map<Thread, number>, now: number, cpus: readonly CpuState[]): ProcessSnapshot {
  const threads = [...p.threads].map((t): ThreadSnapshot => {
    const cpu = onCpu.get(t) ?? null;
    return {
      tid: t.tid,
      comm: t.name,
      state: p.stopped ? 'stopped' : cpu !== null ? 'running' : t.state === 'blocked' ? 'sleeping' : 'runnable',
      policy: POLICY_NAMES[t.policy] ?? String(t.policy),
      priority: t.rtPriority,
      nice: t.nice,
      affinity: cpus.filter((c) => c.allows(t)).map((c) => c.cpu),
      cpu,
      lastCpu: t.cpu,
      cpuMs: t.cpuMs + (cpu !== null ? now - cpus[cpu].runningSince : 0),
      syscalls: t.syscalls,
    };
  }).sort((a, b) => a.tid - b.tid);
  const leader = [...p.threads].find((t) => t.tid === p.pid) ?? [...p.threads][0];
  return {
    pid: p.pid, ppid: p.ppid, pgid: p.pgid, sid: p.sid, comm: leader?.name ?? '', cmdline: p.cmdline,
    state: p.stopped ? 'stopped' : 'alive', threads,
  };
}

function zombieSnapshot(p: Process): ProcessSnapshot {
  return { pid: p.pid, ppid: p.ppid, pgid: p.pgid, sid: p.sid, comm: p.comm, cmdline: [], state: 'zombie', threads: [] };
}
