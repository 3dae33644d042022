// One virtual CPU: a worker thread's run loop. It schedules the guest threads of the processes
// that live on this vCPU, runs them on CPU engines, serves their syscalls inside the engine's
// hook, and parks them when they must wait.
import { writeSync, openSync } from 'node:fs';
import { Control, MachineState } from '../shared-mem/layout.js';
import { Reg, REG_COUNT, type CpuBackend, type StopReason, type SyscallFrame, type SyscallSink } from './backend.js';
import { UnicornBackend } from './unicorn-backend.js';
import { WorkerKernel } from './kernel-context.js';
import { buildSyscallTable } from '../kernel/table.js';
import { dispatch, resume, type SyscallTable } from '../kernel/dispatch.js';
import type { Block, Leave, SyscallResult } from '../kernel/syscall.js';
import { Process, Thread, type SchedulerPort } from '../kernel/task.js';
import { AddressSpace } from '../kernel/mm/address-space.js';
import { FdTable } from '../kernel/files.js';
import { Vfs } from '../kernel/vfs/vfs.js';
import { Strace } from '../kernel/strace.js';
import { consoleForegroundGroup, openStandardStreams } from '../kernel/sys-file.js';
import { execImage } from '../kernel/exec/exec.js';
import { releaseThread } from '../kernel/sys-thread.js';
import { RunQueue, rank, Policy } from '../kernel/sched/run-queue.js';
import { RtThrottle } from '../kernel/sched/rt-throttle.js';
import { restartRseqCriticalSection } from '../kernel/sys-sched.js';
import { FutexTable } from '../kernel/futex-table.js';
import { monotonicMs } from '../kernel/sys-time.js';
import { bootFailure, type BootSpec } from './boot.js';
import { bit, deliverPending, hasDeliverable, RestartDecision, returnFromSignal, SA, sendSignal, SIG, SIG_IGN, type SigInfo } from '../kernel/signals.js';
import { EventWaiter } from './event-waiter.js';
import { addressOf } from '../kernel/host/libc.js';

export interface VcpuTask {
  cpu: number;
  cpus: number;
  memory: SharedArrayBuffer;
  control: SharedArrayBuffer;
  bootTimeMs: number;
  /** Present on the vCPU that starts the machine's first program. */
  boot: BootSpec | null;
}

/** What a vCPU task resolves to: the first program's wait status, or null for the others. */
export type VcpuResult = { status: number } | { error: string; exitCode: number } | null;


class Vcpu implements SyscallSink, SchedulerPort {
  private readonly table: SyscallTable;
  private readonly engines = new Map<AddressSpace, CpuBackend>();
  private readonly runQueue = new RunQueue();
  private readonly blocked = new Set<Thread>();
  /** Runnable threads of stopped processes, held back until SIGCONT. */
  private readonly held = new Set<Thread>();
  private readonly waiter: EventWaiter;
  /** Host address of this vCPU's preemption request word, for its engines' block hook. */
  private readonly preemptRequest: number;
  private current: Thread | null = null;
  private pending: Block | Leave | null = null;
  private rescheduleRequested = false;
  private readonly rtThrottle = new RtThrottle();
  /** Wait statuses of processes that ended, by pid (the first program's is the machine's). */
  readonly ended = new Map<number, number>();
  /** Processes living on this vCPU, by pid. */
  private readonly residents = new Map<number, Process>();

  constructor(readonly kernel: WorkerKernel) {
    this.table = buildSyscallTable();
    this.waiter = new EventWaiter(kernel.control, kernel.cpu);
    this.preemptRequest = addressOf(kernel.control.buffer as SharedArrayBuffer) + 4 * (Control.PREEMPT_REQUEST_BASE + kernel.cpu);
  }

  // ---- SyscallSink: called from inside the engine's hooks ----

  syscall(frame: SyscallFrame): number | null {
    const t = this.current!;
    const r = dispatch(this.table, t, frame.nr, frame.args);
    if (typeof r !== 'number') {
      if (r.kind === 'block') t.parkedNr = frame.nr;
      this.pending = r;
      return null;
    }
    // Leave the engine so that a reschedule happens, or a signal is delivered, right away.
    if (this.rescheduleRequested || hasDeliverable(t)) t.engine!.stopFromHook();
    return r;
  }

  regionFault(addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const t = this.current!;
    return t.mm.engineFault(t.engine!, addr, access);
  }

  // ---- SchedulerPort ----

  add(t: Thread): void {
    if (!this.residents.has(t.process.pid)) this.adopt(t.process);
    t.state = 'runnable';
    this.runQueue.add(t);
    if (this.current && rank(t) > rank(this.current)) this.requestReschedule();
  }

  /** A parked thread's wait is over (futex wake, fd ready, deadline): it runs its resume step next. */
  wake(t: Thread): void {
    if (t.state !== 'blocked') return;
    this.blocked.delete(t);
    this.add(t);
  }

  requestReschedule(): void {
    this.rescheduleRequested = true;
  }

  reprioritize(t: Thread): void {
    if (t.state === 'runnable') {
      this.runQueue.remove(t);
      this.runQueue.add(t);
    }
    if (this.current && this.runQueue.topRank > rank(this.current)) this.requestReschedule();
  }

  kill(t: Thread): void {
    this.runQueue.remove(t);
    this.blocked.delete(t);
    this.held.delete(t);
    if (t.parked?.wait.kind === 'futex') this.kernel.futexes.remove(t.parked.wait.waiter);
    this.retireThread(t);
  }

  // ---- Engines ----

  private engineFor(mm: AddressSpace): CpuBackend {
    let engine = this.engines.get(mm);
    if (!engine) {
      engine = new UnicornBackend(this, this.preemptRequest);
      mm.attach(engine);
      this.engines.set(mm, engine);
    }
    return engine;
  }

  /** A process stops using mm (exit, exec); the last user's departure frees it. */
  private retireAddressSpace(mm: AddressSpace): void {
    if (--mm.users > 0) return;
    const engine = this.engines.get(mm);
    if (engine) {
      mm.detach(engine);
      engine.dispose();
      this.engines.delete(mm);
    }
    mm.destroy();
  }

  // ---- The run loop ----

  /** Runs until the machine shuts down or, with untilPid, until that process has ended. */
  run(untilPid: number | null): void {
    const control = this.kernel.control;
    while (Atomics.load(control, Control.STATE) === MachineState.RUNNING) {
      if (untilPid !== null && this.ended.has(untilPid)) return;
      this.forwardHostSignals();
      this.collectWakeups(this.runQueue.size > 0 ? 0 : this.nextDeadline());
      const t = this.runQueue.takeNext(!this.rtThrottle.throttled(monotonicMs()) || !this.runQueue.hasNormal());
      if (t && t.process.stopped) this.held.add(t);
      else if (t) this.runThread(t);
    }
  }

  /**
   * Signals the host sent to starling: the terminal's (SIGINT, SIGQUIT, SIGTSTP) go to the guest's
   * foreground process group, as the terminal driver would send them; SIGTERM and SIGHUP go to
   * the first process, as a container's stop does.
   */
  private forwardHostSignals(): void {
    const bits = Atomics.exchange(this.kernel.control, Control.HOST_SIGNALS, 0);
    const init = this.residents.get(INIT_PID);
    if (!bits || !init) return;
    for (let sig = 1; sig <= 32; sig++) {
      if (!(bits & (1 << (sig - 1)))) continue;
      const fromTerminal = sig === SIG.INT || sig === SIG.QUIT || sig === SIG.TSTP;
      const group = fromTerminal ? consoleForegroundGroup() ?? init.pgid : null;
      for (const p of this.residents.values()) {
        if (group === null ? p === init : p.pgid === group) sendSignal(p, null, { signo: sig, code: SI_KERNEL });
      }
    }
  }

  /** Waits (up to timeoutMs; 0 polls) for parked threads' fds, deadlines and the doorbell. */
  private collectWakeups(timeoutMs: number): void {
    if (timeoutMs === 0 && this.blocked.size === 0) return;
    const waiting: Array<{ thread: Thread; fd: number; events: number }> = [];
    for (const t of this.blocked) {
      const w = t.parked!.wait;
      if (w.kind === 'fd') waiting.push({ thread: t, fd: w.hostFd, events: w.events });
      else if (w.kind === 'fds') for (const f of w.fds) waiting.push({ thread: t, fd: f.hostFd, events: f.events });
    }
    const ready = this.waiter.wait(waiting, timeoutMs);
    waiting.forEach((w, i) => ready[i] && this.wake(w.thread));
    const now = monotonicMs();
    for (const t of [...this.blocked]) {
      const deadline = t.parked!.wait.deadline;
      if (deadline !== undefined && deadline <= now) this.wake(t);
    }
  }

  private nextDeadline(): number {
    let next = Infinity;
    for (const t of this.blocked) next = Math.min(next, t.parked!.wait.deadline ?? Infinity);
    return next === Infinity ? Infinity : Math.max(0, next - monotonicMs());
  }

  private runThread(t: Thread): void {
    const mm = t.mm;
    const engine = this.switchIn(t);
    let restart: RestartDecision | null = null;
    if (t.parked) {
      const parked = t.parked;
      t.parked = null;
      if (t.signalInterrupt && parked.interruptible !== 'resume') {
        parked.cancel?.();
        restart = new RestartDecision(engine, !NOT_RESTARTABLE.has(t.parkedNr), t.parkedNr, parked.interrupted);
      } else if (!this.settle(t, engine, resume(t, parked.resume))) {
        return;
      }
    }
    t.signalInterrupt = false;
    const delivery = deliverPending(t, engine, restart);
    if (delivery.kind === 'fatal') return this.fatalSignal(t, delivery.status, `killed by signal ${delivery.status}`);
    if (delivery.kind === 'stop') {
      this.stopProcess(t.process, delivery.sig);
      return this.switchOut(t, engine, 'front');
    }
    this.rescheduleRequested = false;
    this.pending = null;
    const control = this.kernel.control;
    // FIFO threads are not time-sliced, but the tick still watches them for RT throttling.
    const realTime = rank(t) > 0;
    const tick = this.runQueue.size > 0 && (t.policy !== Policy.FIFO || this.runQueue.hasNormal());
    Atomics.store(control, Control.TICK_WANTED_BASE + this.kernel.cpu, tick ? 1 : 0);
    const started = monotonicMs();
    const stop = engine.run();
    Atomics.store(control, Control.PREEMPT_REQUEST_BASE + this.kernel.cpu, 0);
    if (realTime) this.rtThrottle.charge(monotonicMs() - started, monotonicMs());
    this.afterStop(t, engine, stop);
    if (t.state !== 'dead' && t.mm !== mm) this.retireAddressSpace(mm);
  }

  /** Puts t's registers into its address space's engine. */
  private switchIn(t: Thread): CpuBackend {
    const engine = this.engineFor(t.mm);
    t.engine = engine;
    t.state = 'running';
    this.current = t;
    if (t.startRegisters) {
      const regs = new BigInt64Array(REG_COUNT);
      regs[Reg.RIP] = BigInt(t.startRegisters.rip);
      regs[Reg.RSP] = BigInt(t.startRegisters.rsp);
      regs[Reg.EFLAGS] = 0x202n;
      engine.setRegs(regs);
      t.startRegisters = null;
      return engine;
    }
    if (t.context) engine.restoreContext(t.context);
    const fix = t.startFixups;
    if (fix) {
      t.startFixups = null;
      engine.setReg(Reg.RIP, fix.rip);
      engine.setReg(Reg.RSP, fix.rsp);
      engine.setReg(Reg.RAX, 0);
      engine.setReg(Reg.RCX, fix.rip);
      engine.setReg(Reg.R11, engine.getReg(Reg.EFLAGS));
      if (fix.fsBase !== null) engine.setReg(Reg.FS_BASE, fix.fsBase);
    }
    return engine;
  }

  /** Saves t's registers off the engine and queues it again (front: a preempted FIFO thread keeps its place). */
  private switchOut(t: Thread, engine: CpuBackend, requeue: 'front' | 'back' | 'park'): void {
    t.context ??= engine.newContext();
    engine.saveContext(t.context);
    this.current = null;
    if (requeue === 'park') {
      t.state = 'blocked';
      this.blocked.add(t);
      return;
    }
    t.state = 'runnable';
    this.runQueue.add(t, requeue === 'front');
  }

  /** Applies a syscall's outcome; returns true when t should go on running. */
  private settle(t: Thread, engine: CpuBackend, r: SyscallResult): boolean {
    if (typeof r === 'number') {
      engine.completeSyscall(r);
      return true;
    }
    if (r.kind === 'block') {
      t.parked = r;
      this.switchOut(t, engine, 'park');
      return false;
    }
    if (r.why === 'sigreturn') {
      if (!returnFromSignal(t, engine)) {
        this.fatalSignal(t, SIG.SEGV, 'bad signal frame');
        return false;
      }
      this.switchOut(t, engine, 'front');
      return false;
    }
    if (r.why === 'exec') {
      this.killSiblings(t);
      this.switchOut(t, engine, 'front');
      return false;
    }
    this.exitThread(t);
    return false;
  }

  private afterStop(t: Thread, engine: CpuBackend, stop: StopReason): void {
    switch (stop.kind) {
      case 'trap':
        if (this.pending) this.settle(t, engine, this.pending);
        else this.switchOut(t, engine, hasDeliverable(t) ? 'front' : 'back'); // a reschedule or a signal
        return;
      case 'preempted':
        if (!restartRseqCriticalSection(t, engine)) return this.fatalSignal(t, SIG.SEGV, 'rseq abort handler signature mismatch');
        this.switchOut(t, engine, t.policy === Policy.FIFO ? 'front' : 'back');
        return;
      case 'fault': {
        const code = stop.mapped || t.mm.findVma(stop.addr) ? SEGV_ACCERR : SEGV_MAPERR;
        return this.faultSignal(t, engine, { signo: SIG.SEGV, code, addr: stop.addr }, `segmentation fault at 0x${stop.addr.toString(16)} (${stop.access})`);
      }
      case 'illegal':
        return this.faultSignal(t, engine, { signo: SIG.ILL, code: ILL_ILLOPN, addr: stop.rip }, `illegal instruction at 0x${stop.rip.toString(16)}`);
      case 'interrupt': {
        const signo = stop.vector === 0 ? SIG.FPE : stop.vector === 3 ? SIG.TRAP : SIG.SEGV;
        const code = signo === SIG.FPE ? FPE_INTDIV : signo === SIG.TRAP ? TRAP_BRKPT : SI_KERNEL;
        return this.faultSignal(t, engine, { signo, code, addr: stop.rip }, `exception ${stop.vector} at 0x${stop.rip.toString(16)}`);
      }
    }
  }

  /**
   * A fault raised by guest code: its handler runs if one is installed and the signal is not
   * blocked; otherwise (or for SIG_IGN, which Linux overrides for faults) the process dies.
   */
  private faultSignal(t: Thread, engine: CpuBackend, info: SigInfo, what: string): void {
    const action = t.process.sigactions.get(info.signo);
    if (!action || action.handler === SIG_IGN || t.sigmask & bit(info.signo)) return this.fatalSignal(t, info.signo, what);
    sendSignal(t.process, t, info);
    this.switchOut(t, engine, 'front');
  }

  private fatalSignal(t: Thread, sig: number, what: string): void {
    if (process.env.STARLING_DEBUG) writeSync(2, `starling: pid ${t.process.pid}: ${what}\n`);
    t.kernel.strace?.killed(t, sig);
    t.process.exitStatus = sig;
    this.exitThread(t);
  }

  /** exec and exit_group end every other thread of the process at once. */
  private killSiblings(t: Thread): void {
    for (const other of [...t.process.threads]) if (other !== t) this.kill(other);
  }

  /** The calling thread is done: exit_group or a fatal signal take the whole process with it. */
  private exitThread(t: Thread): void {
    const p = t.process;
    if (p.exitStatus !== null) this.killSiblings(t);
    releaseThread(t);
    const last = p.threads.size === 1;
    const status = p.exitStatus ?? ((t.exitCode ?? 0) & 0xff) << 8;
    if (last && (status & 0x7f) === 0) t.kernel.strace?.exited(t, status >> 8);
    this.retireThread(t);
    if (last) this.endProcess(p, status);
  }

  private retireThread(t: Thread): void {
    t.state = 'dead';
    t.context?.free();
    t.context = null;
    t.process.threads.delete(t);
    if (this.current === t) this.current = null;
  }

  private endProcess(p: Process, status: number): void {
    p.exitStatus = status;
    this.retireAddressSpace(p.mm);
    p.files.closeAll();
    if (p.vforkParent) {
      this.wake(p.vforkParent);
      p.vforkParent = null;
    }
    const init = this.residents.get(INIT_PID);
    for (const child of p.children) {
      child.parent = init ?? null;
      child.ppid = init ? INIT_PID : 0;
      init?.children.add(child);
    }
    p.children.clear();
    this.residents.delete(p.pid);
    this.ended.set(p.pid, status);
    const parent = p.parent;
    if (!parent) return;
    // A parent that ignores SIGCHLD (or sets SA_NOCLDWAIT) leaves no zombie behind.
    const action = parent.sigactions.get(SIG.CHLD);
    if (action && (action.handler === SIG_IGN || action.flags & SA.NOCLDWAIT)) parent.reap(p);
    for (const waiter of [...parent.childWaiters]) this.wake(waiter);
    const signal = status & 0x7f;
    if (p.exitSignal) {
      sendSignal(parent, null, {
        signo: p.exitSignal, code: signal === 0 ? CLD_EXITED : CLD_KILLED, pid: p.pid, uid: 0,
        status: signal === 0 ? (status >> 8) & 0xff : signal,
      });
    }
  }

  /** A job-control stop: the process's threads are held back; the parent hears of it. */
  private stopProcess(p: Process, sig: number): void {
    p.stopped = true;
    p.jobReport = { kind: 'stopped', sig };
    this.tellParent(p, CLD_STOPPED, sig);
  }

  continueProcess(p: Process): void {
    if (!p.stopped) return;
    p.stopped = false;
    p.jobReport = { kind: 'continued' };
    for (const t of [...this.held]) {
      if (t.process !== p) continue;
      this.held.delete(t);
      this.runQueue.add(t);
    }
    this.tellParent(p, CLD_CONTINUED, SIG.CONT);
  }

  /** Wakes the parent's waiters and sends SIGCHLD for a stop or continue (unless SA_NOCLDSTOP). */
  private tellParent(p: Process, code: number, status: number): void {
    const parent = p.parent;
    if (!parent) return;
    for (const waiter of [...parent.childWaiters]) this.wake(waiter);
    const action = parent.sigactions.get(SIG.CHLD);
    if (action && action.flags & SA.NOCLDSTOP) return;
    sendSignal(parent, null, { signo: SIG.CHLD, code, pid: p.pid, uid: 0, status });
  }

  /** Registers a process that lives on this vCPU. */
  adopt(p: Process): void {
    this.residents.set(p.pid, p);
  }

  processes(): Iterable<Process> {
    return this.residents.values();
  }
}

const INIT_PID = 1;
const CLD_EXITED = 1, CLD_KILLED = 2, CLD_STOPPED = 5, CLD_CONTINUED = 6;
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, TRAP_BRKPT = 1, SI_KERNEL = 0x80;
/** Syscalls Linux never restarts after a handler (they return EINTR, or ERESTART_RESTARTBLOCK/NOHAND). */
const NOT_RESTARTABLE = new Set([7, 23, 34, 35, 128, 130, 230, 232, 270, 271, 281, 441]);

function openStrace(spec: BootSpec['strace']): Strace | null {
  if (!spec) return null;
  const fd = spec.file ? openSync(spec.file, 'w') : 2;
  return new Strace((line) => writeSync(fd, line + '\n'));
}

/** The piscina task: one per vCPU, alive for the machine's lifetime. */
export default function runVcpu(task: VcpuTask): VcpuResult {
  const control = new Int32Array(task.control);
  const boot = task.boot;
  const vfs = new Vfs(boot?.rootfs ?? '/nonexistent', boot?.binds ?? [], { cpus: task.cpus });
  let vcpu: Vcpu | null = null;
  const futexes = new FutexTable((t) => vcpu!.wake(t));
  const kernel = new WorkerKernel(task.cpu, task.cpus, task.memory, control, vfs, openStrace(boot?.strace ?? null),
    task.bootTimeMs, futexes, {
      add: (t) => vcpu!.add(t), requestReschedule: () => vcpu!.requestReschedule(),
      reprioritize: (t) => vcpu!.reprioritize(t), kill: (t) => vcpu!.kill(t), wake: (t) => vcpu!.wake(t),
      processes: () => vcpu!.processes(), continueProcess: (p) => vcpu!.continueProcess(p),
    });
  vcpu = new Vcpu(kernel);
  vfs.setProcessDirectory(() => ({
    get: (pid) => [...vcpu!.processes()].find((p) => p.pid === pid),
    pids: () => [...vcpu!.processes()].map((p) => p.pid).sort((a, b) => a - b),
  }));
  if (!boot) {
    vcpu.run(null);
    return null;
  }
  const pid = kernel.allocateId();
  const files = new FdTable();
  openStandardStreams(files);
  const p = new Process(kernel, pid, 0, new AddressSpace(kernel.pool, kernel.poolAddress), files, { cwd: boot.cwd, umask: 0o022 });
  const t = new Thread(pid, p, 'starling-init');
  p.threads.add(t);
  try {
    const path = boot.program.includes('/') ? boot.program : vfs.lookupInPath(t, boot.program, pathOf(boot.env));
    if (path === null) return bootFailure(boot.program, 'command not found', 127);
    const empty = p.mm;
    execImage(t, path, [boot.program, ...boot.args], boot.env);
    empty.destroy();
  } catch (e) {
    return bootFailure(boot.program, e, undefined);
  }
  vcpu.add(t);
  vcpu.run(pid);
  const status = vcpu.ended.get(pid);
  return status === undefined ? { error: 'the machine shut down before the program ended', exitCode: 125 } : { status };
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
function pathOf(env: string[]): string {
  return env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
}
