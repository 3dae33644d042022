// One virtual CPU: a worker thread's run loop. It schedules the guest threads of the processes
// that live on this vCPU, runs them on CPU engines, serves their syscalls inside the engine's
// hook, and parks them when they must wait.
import { writeSync, openSync } from 'node:fs';
import { Control, MachineState } from '../shared-mem/layout.js';
import { Reg, REG_COUNT, type CpuBackend, type StopReason, type SyscallFrame, type SyscallSink } from './backend.js';
import type { EngineFactory } from './engines.js';
import type { VcpuResult, VcpuTask } from './worker.js';
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
import { VdsoImage } from '../kernel/exec/vdso.js';
import { releaseThread } from '../kernel/sys-thread.js';
import { rank, Policy } from '../kernel/sched/run-queue.js';
import { publishRseqCpu, restartRseqCriticalSection } from '../kernel/sys-sched.js';
import { CpuState, placeThread } from './cpu-state.js';
import { TrapKind } from '../kernel/sched/trap-mix.js';
import { TICK_MS } from '../shared-mem/preempt.js';
import { ExecSlot, HAND_OVER_SPIN_MS, MAX_SLOT_REGIONS, SlotState, spinUntil, type EngineRegion } from '../shared-mem/exec-slot.js';
import { FutexTable } from '../kernel/futex-table.js';
import { monotonicMs } from '../kernel/sys-time.js';
import { fireRealTimers, nextRealTimer } from '../kernel/sys-itimer.js';
import { bootFailure, type BootSpec } from './boot.js';
import { bit, deliverPending, hasDeliverable, RestartDecision, returnFromSignal, SA, sendSignal, SIG, SIG_IGN, type SigInfo } from '../kernel/signals.js';
import { EventWaiter } from './event-waiter.js';
import { networkBridge } from '../netbridge/port-map.js';
import { MonitorAgent, type KernelView } from './monitor-agent.js';
import { signalName } from '../kernel/strace.js';
import type { EventSink } from '../kernel/events.js';



/** The vCPU that holds the kernel state: it serves every trap, its own threads' and lent ones'. */
const KERNEL_CPU = 0;
/** How long vCPU 0 keeps polling the lent threads' syscall slots after their last call, and how long a slice of polling lasts (ms). */
const REMOTE_IDLE_MS = 0.2;
const REMOTE_POLL_SLICE_MS = 0.2;
/** After a thread gave up waiting for the poll (this worker lost its host CPU), no polling for a while: first this long (ms), doubling up to the maximum. */
const REMOTE_BACKOFF_MIN_MS = 1;
const REMOTE_BACKOFF_MAX_MS = 8;

class Vcpu implements SyscallSink, SchedulerPort, KernelView {
  private readonly table: SyscallTable;
  private readonly engines = new Map<AddressSpace, CpuBackend>();
  readonly cpus: CpuState[];
  /** Syscalls made since boot, by number (the monitor shows them by name). */
  readonly syscallCounts = new Float64Array(SYSCALL_COUNTS);
  /** Answers the main thread's monitor; set once the kernel exists. */
  monitor: MonitorAgent | null = null;
  private readonly blocked = new Set<Thread>();
  /** Runnable threads of stopped processes, held back until SIGCONT. */
  private readonly held = new Set<Thread>();
  private readonly waiter: EventWaiter;
  /** The thread whose registers are on this vCPU's engine: executing here, or having a trap served. */
  private current: Thread | null = null;
  private pending: Block | Leave | null = null;
  private rescheduleRequested = false;
  /** A thread was queued for an idle vCPU while this one executes: leave the engine so that the loop lends it. */
  private lendPending = false;
  /**
   * The execution token: which vCPU executes each address space's guest code now. Unicorn runs
   * LOCK-prefixed instructions non-atomically across engines, so at most one vCPU may; with an
   * atomic backend (KVM) there is no token and this stays empty.
   */
  private readonly executing = new Map<AddressSpace, number>();
  /** Whether an address space's threads must execute one at a time (the backend is not atomic across vCPUs). */
  private readonly exclusive: boolean;
  /** Address spaces that a thread queued on another vCPU waits to execute: their holder leaves at its next trap. */
  private readonly tokenWanted = new Set<AddressSpace>();
  /** Per address space, the vCPUs waiting for its token, in the order they started waiting: it goes to the first. */
  private readonly tokenLine = new Map<AddressSpace, number[]>();
  /** Which other vCPU the next dispatch pass looks at first (so that none is always served last). */
  private dispatchTurn = 0;
  private readonly regs = new BigInt64Array(REG_COUNT);
  /** Wait statuses of processes that ended, by pid (the first program's is the machine's). */
  readonly ended = new Map<number, number>();
  /** Every process of the machine, by pid. */
  private readonly residents = new Map<number, Process>();
  /**
   * Whether threads lent out may publish their syscalls for this loop to serve in place (KVM
   * on PVM: CpuBackend.remoteSyscallSlot): not under --strace, whose lines need each call
   * made once.
   */
  private readonly remoteSyscalls: boolean;
  /** Whether the slots of the threads lent out say that this loop polls them (RemoteSyscallSlot.setPolling). */
  private servingRemote = false;
  /** When a lent thread last made a syscall, served either way (performance.now()). */
  private lastRemoteCallAt = -Infinity;
  private remoteBackoffUntil = 0;
  private remoteBackoffMs = REMOTE_BACKOFF_MIN_MS;
  private readonly remoteFrame: SyscallFrame = { nr: 0, args: [0, 0, 0, 0, 0, 0], rip: 0 };

  constructor(readonly kernel: WorkerKernel, slots: SharedArrayBuffer, private readonly engineKind: EngineFactory) {
    this.table = buildSyscallTable();
    this.exclusive = !engineKind.atomic;
    this.remoteSyscalls = engineKind.syscallMailbox && !kernel.strace;
    this.waiter = new EventWaiter(kernel.control, KERNEL_CPU);
    this.cpus = Array.from({ length: kernel.cpus }, (_, cpu) => new CpuState(cpu, cpu === KERNEL_CPU ? null : new ExecSlot(slots, cpu), kernel.control));
  }

  // ---- SyscallSink: called from inside the engine's hooks ----

  syscall(frame: SyscallFrame): number | null {
    const t = this.current!;
    this.countSyscall(this.cpus[KERNEL_CPU], t, frame.nr);
    const servable = this.servableInPlace(t, frame.nr, frame.args);
    const r = dispatch(this.table, t, frame.nr, frame.args);
    this.wakeFdWaitersAfter(frame.nr);
    t.trapMix.noteCall(servable, r);
    if (typeof r !== 'number') {
      if (r.kind === 'block') t.parkedNr = frame.nr;
      this.pending = r;
      return null;
    }
    // Leave the engine so that a reschedule happens, a signal is delivered, another vCPU gets
    // the address space, or t moves to an idle vCPU, right away.
    if (this.rescheduleRequested || this.lendPending || hasDeliverable(t) || this.tokenWanted.has(t.mm) || this.movesOut(t)) t.engine!.stopFromHook();
    return r;
  }

  /** Whether the mailbox would serve this call without an exit, were t lent (asked before the call: the condition reads its arguments). */
  private servableInPlace(t: Thread, nr: number, args: readonly number[]): boolean {
    return this.remoteSyscalls && (this.table.get(nr)?.remote?.(t, args) ?? false);
  }

  /**
   * Threads parked on host fds are otherwise woken from the loop's poll; after a syscall that can
   * make such an fd ready, poll at once, so that a woken higher-priority thread preempts its
   * waker before the waker's syscall returns, as on Linux.
   */
  private wakeFdWaitersAfter(nr: number): void {
    if (!MAY_READY_FDS.has(nr)) return;
    for (const t of this.blocked) {
      const kind = t.parked!.wait.kind;
      if (kind === 'fd' || kind === 'fds') return this.collectWakeups(0);
    }
  }

  regionFault(addr: number, access: 'read' | 'write' | 'exec'): boolean {
    const t = this.current!;
    t.trapMix.note(TrapKind.OTHER);
    return t.mm.engineFault(t.engine!, addr, access);
  }

  // ---- SchedulerPort ----

  add(t: Thread): void {
    if (!this.residents.has(t.process.pid)) this.adopt(t.process);
    t.state = 'runnable';
    this.enqueue(t, false, true);
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
      this.cpus[t.cpu].queue.remove(t);
      this.cpus[t.cpu].queue.add(t);
    }
    for (const c of this.cpus) {
      if (c.running && c.queue.topRank > rank(c.running)) this.preempt(c);
      else c.updateTick(this.wantsTick(c)); // a normal thread may now wait behind a FIFO one: it needs the tick for RT throttling
    }
  }

  kill(t: Thread): void {
    this.cpus[t.cpu].queue.remove(t);
    this.blocked.delete(t);
    this.held.delete(t);
    if (t.parked?.wait.kind === 'futex') this.kernel.futexes.remove(t.parked.wait.waiter);
    // A lent thread stops at once; its return is then ignored.
    for (const c of this.cpus) if (c.running === t && c.slot) c.preempt();
    this.retireThread(t);
  }

  timersChanged(): void {
    for (const c of this.cpus) c.updateTick(this.wantsTick(c));
  }

  interrupt(t: Thread): void {
    for (const c of this.cpus) if (c.running === t && c.slot) c.preempt();
  }

  affinityChanged(t: Thread): void {
    if (this.cpus[t.cpu].allows(t)) return;
    if (t.state === 'runnable') {
      this.cpus[t.cpu].queue.remove(t);
      this.enqueue(t, false, true);
    } else if (t === this.current) {
      this.requestReschedule(); // switchOut places it within its new mask
    } else {
      this.interrupt(t);
    }
  }

  /** Stops every other vCPU executing mm (vCPU 0's own engine waits in the caller's hook). */
  quiesce(mm: AddressSpace): void {
    const others = this.cpus.filter((c) => c.slot && c.runningMm === mm);
    for (const c of others) c.preempt();
    for (const c of others) {
      while (c.slot!.state === SlotState.ASSIGNED || c.slot!.state === SlotState.RUNNING) {
        if (Atomics.load(this.kernel.control, Control.STATE) !== MachineState.RUNNING) return;
        c.slot!.awaitReturn(50);
      }
    }
  }

  // ---- Placement ----

  /**
   * Whether t, executing on vCPU 0, goes on on an idle vCPU instead (t's vCPU is set; the
   * caller leaves the engine): its traps are mostly calls the mailbox serves there (TrapMix),
   * and nothing else needs vCPU 0, whose loop then serves them.
   */
  private movesOut(t: Thread): boolean {
    if (!t.trapMix.favoursMailbox || this.hasWorkHere()) return false;
    const idle = this.cpus.find((c) => c.slot && !c.running && c.queue.size === 0 && c.allows(t));
    if (!idle) return false;
    t.cpu = idle.cpu;
    this.lastRemoteCallAt = performance.now(); // its calls come to the mailbox from now on: poll for them
    return true;
  }

  /**
   * Whether t, lent and back with a trap, goes on on vCPU 0: nothing else needs vCPU 0, and
   * t's traps cost less there (without a mailbox, all of them do).
   */
  private comesHome(t: Thread): boolean {
    const home = this.cpus[KERNEL_CPU];
    return t.trapMix.favoursKernelCpu && home.allows(t) && !home.running && !this.hasWorkHere();
  }

  /** Queues t on a vCPU its mask allows: placed afresh, or on its current vCPU when that is still allowed. */
  private enqueue(t: Thread, front: boolean, place: boolean): void {
    if (place || !this.cpus[t.cpu].allows(t)) t.cpu = placeThread(t, this.cpus, this.exclusive, this.remoteSyscalls && t.trapMix.favoursMailbox);
    const c = this.cpus[t.cpu];
    c.queue.add(t, front);
    if (c.running && rank(t) > rank(c.running)) this.preempt(c);
    else c.updateTick(this.wantsTick(c));
    // The loop lends threads to other vCPUs: leave the engine at the next syscall to do so.
    if (c.slot && !c.running && this.cpus[KERNEL_CPU].running) this.lendPending = true;
  }

  private preempt(c: CpuState): void {
    if (c.slot) c.preempt();
    else if (c.running) this.requestReschedule(); // vCPU 0 is in that thread's syscall hook
  }

  /**
   * The best thread c may run now: not of a stopped process, and of an address space that no
   * vCPU executes and that no vCPU ahead of c in its line waits for (the token goes round
   * fairly).
   */
  private pick(c: CpuState): Thread | undefined {
    const realTime = !c.throttle.throttled(monotonicMs()) || !c.queue.hasNormal();
    for (;;) {
      const t = c.queue.takeNext(realTime, (x) => this.mayTake(c, x));
      if (!t || !t.process.stopped) return t;
      this.held.add(t);
    }
  }

  private mayTake(c: CpuState, t: Thread): boolean {
    if (!this.exclusive) return true;
    if (this.executing.has(t.mm)) return false;
    const line = this.tokenLine.get(t.mm);
    return !line || line.length === 0 || line[0] === c.cpu;
  }

  /**
   * An idle vCPU takes a thread queued on a busy one, if its mask allows and no vCPU executes its
   * address space (on a backend with the token). A real-time thread queued behind one of equal or higher priority moves here
   * even when its address space executes elsewhere, and waits here for the token: Linux pushes
   * real-time threads to a CPU where they can run rather than leave them behind a FIFO spinner.
   */
  private steal(idle: CpuState): Thread | undefined {
    for (const c of this.cpus) {
      if (c === idle) continue;
      const t = c.running ? c.queue.takeNext(true, (x) => idle.allows(x) && !(this.exclusive && this.executing.has(x.mm)) && !x.process.stopped) : undefined;
      if (t) {
        t.cpu = idle.cpu;
        return t;
      }
      const behind = (x: Thread) => (c.running !== null && rank(c.running) >= rank(x)) || c.queue.first !== x;
      const stuck = c.queue.takeNext(true, (x) => rank(x) > 0 && idle.allows(x) && !x.process.stopped && behind(x));
      if (stuck) {
        stuck.cpu = idle.cpu;
        idle.queue.add(stuck);
      }
    }
    return undefined;
  }

  /**
   * Idle vCPUs with threads of an address space another vCPU executes join its line, and its
   * holder should let go soon; vCPUs that no longer want it leave the line.
   */
  private noteTokenWaiters(): void {
    for (const [mm, line] of this.tokenLine) {
      const still = line.filter((cpu) => !this.cpus[cpu].running && [...this.cpus[cpu].queue].some((x) => x.mm === mm));
      if (still.length) this.tokenLine.set(mm, still);
      else this.tokenLine.delete(mm);
    }
    const now = monotonicMs();
    for (const c of this.cpus) {
      const top = c.queue.first;
      c.noteRtStall(!c.running && top !== undefined && rank(top) > 0, now);
      if (c.running) continue;
      for (const t of c.queue) {
        if (!this.executing.has(t.mm)) continue;
        const line = this.tokenLine.get(t.mm) ?? [];
        if (!line.includes(c.cpu)) this.tokenLine.set(t.mm, [...line, c.cpu]);
      }
    }
    this.tokenWanted.clear();
    for (const mm of this.tokenLine.keys()) this.tokenWanted.add(mm);
    for (const c of this.cpus) c.updateTick(this.wantsTick(c));
  }

  // ---- Engines ----

  private engineFor(mm: AddressSpace): CpuBackend {
    let engine = this.engines.get(mm);
    if (!engine) {
      engine = this.engineKind.create(this, true);
      mm.attach(engine);
      this.engines.set(mm, engine);
    }
    return engine;
  }

  /** A process stops using mm (exit, exec); the last user's departure frees it. */
  private retireAddressSpace(mm: AddressSpace): void {
    if (--mm.users > 0) return;
    // A killed thread lent to another vCPU may still execute there (kill does not wait): its
    // page tables must outlive it, or the next interrupt there finds no IDT (a triple fault).
    this.quiesce(mm);
    const engine = this.engines.get(mm);
    if (engine) {
      mm.detach(engine);
      engine.dispose();
      this.engines.delete(mm);
    }
    mm.destroy();
    this.tokenLine.delete(mm);
    for (const c of this.cpus) {
      if (c.sentLayouts.delete(mm.id)) c.retired.push(mm.id);
    }
  }

  /** exec gave t's process a new address space: the old one loses a user. */
  private retireIfReplaced(t: Thread, mm: AddressSpace): void {
    if (t.state !== 'dead' && t.mm !== mm) this.retireAddressSpace(mm);
  }

  // ---- The run loop ----

  /** Runs until the machine shuts down or, with untilPid, until that process has ended. */
  run(untilPid: number | null): void {
    const control = this.kernel.control;
    const ended = () => untilPid !== null && this.ended.has(untilPid);
    while (Atomics.load(control, Control.STATE) === MachineState.RUNNING) {
      if (ended()) return;
      this.forwardHostSignals();
      this.monitor?.serve();
      Atomics.store(control, Control.PREEMPT_REQUEST_BASE + KERNEL_CPU, 0);
      // Lend before sleeping: a thread queued for an idle vCPU must not wait for an event here.
      this.schedulePass();
      const polling = this.pollLentThreads();
      // The process can also end in the pass (a thread about to be lent dies of a signal):
      // nothing would wake the loop after that.
      const timeoutMs = ended() || this.hasWorkHere() || polling ? 0 : this.nextDeadline();
      if (timeoutMs > 0) this.stopServingRemote();
      if (timeoutMs >= TICK_MS) this.engineKind.idle();
      this.collectWakeups(timeoutMs);
      this.schedulePass();
      const t = this.pick(this.cpus[KERNEL_CPU]);
      if (t) {
        this.stopServingRemote();
        this.runThread(t);
      }
    }
  }

  /** Serves lent threads that came back, lends threads to idle vCPUs, and sets who must let an address space go. */
  private schedulePass(): void {
    this.serveReturns();
    this.lendToIdleCpus();
    this.noteTokenWaiters();
  }

  /**
   * With nothing to do here while threads are lent, a trap of theirs is likely soon: poll
   * briefly before sleeping. With remote syscalls, poll their slots and serve their calls for
   * as long as calls keep coming (at most REMOTE_IDLE_MS apart), a slice at a time so that the
   * loop still polls fds and deadlines: returns whether the loop should come back instead of
   * sleeping. A core spent polling buys the exits: about 30 us each on PVM against about 3 us.
   */
  private pollLentThreads(): boolean {
    if (this.hasWorkHere() || !this.cpus.some((c) => c.slot && c.running)) return false;
    if (!this.cpus.some((c) => c.remoteSlot) || !this.remoteCallsRecent()) {
      spinUntil(() => this.anyReturned(), HAND_OVER_SPIN_MS);
      return false;
    }
    this.startServingRemote();
    const until = performance.now() + Math.min(REMOTE_POLL_SLICE_MS, this.nextDeadline());
    for (;;) {
      for (const c of this.cpus) {
        if (!c.remoteSlot || !this.serveRemote(c)) continue;
        this.lastRemoteCallAt = performance.now();
        this.remoteBackoffMs = REMOTE_BACKOFF_MIN_MS;
      }
      if (this.hasWorkHere() || this.anyIdleWithWork()) return true;
      if (performance.now() >= until) return this.remoteCallsRecent();
    }
  }

  /** Whether polling pays: lent threads made calls just now, and none gave up waiting lately. */
  private remoteCallsRecent(): boolean {
    const now = performance.now();
    return now - this.lastRemoteCallAt < REMOTE_IDLE_MS && now >= this.remoteBackoffUntil;
  }

  /**
   * A thread comes back from c: if it gave up waiting for the poll, the host did not run this
   * worker when it should have (a busy host), and spinning threads only make that worse.
   */
  private noteRemoteGiveUps(c: CpuState): void {
    if (!c.remoteSlot || c.remoteSlot.giveUps === c.remoteGiveUps) return;
    this.remoteBackoffUntil = performance.now() + this.remoteBackoffMs;
    this.remoteBackoffMs = Math.min(2 * this.remoteBackoffMs, REMOTE_BACKOFF_MAX_MS);
  }

  private startServingRemote(): void {
    this.servingRemote = true;
    for (const c of this.cpus) c.remoteSlot?.setPolling(true);
  }

  /**
   * Before anything that may keep this loop away: the flags go down, and a call published
   * before they fell (its stub saw them up, and waits) is declined, to come back as an exit.
   */
  private stopServingRemote(): void {
    if (!this.servingRemote) return;
    this.servingRemote = false;
    for (const c of this.cpus) c.remoteSlot?.setPolling(false);
    for (const c of this.cpus) if (c.remoteSlot?.take(this.remoteFrame)) c.remoteSlot.decline();
  }

  /**
   * Serves the call the thread lent to c published, if any, while it waits there. Calls whose
   * entry is not marked remote (syscall.ts), and calls that must wait, are declined: the
   * thread makes them through an exit, and waits after it.
   */
  private serveRemote(c: CpuState): boolean {
    const slot = c.remoteSlot!, f = this.remoteFrame;
    if (!slot.take(f)) return false;
    const t = c.running!;
    const when = this.table.get(f.nr)?.remote;
    if (t.state === 'dead' || !when || !when(t, f.args)) {
      slot.decline();
      return true;
    }
    const r = dispatch(this.table, t, f.nr, f.args);
    if (typeof r !== 'number') {
      slot.decline();
      return true;
    }
    this.countSyscall(c, t, f.nr);
    t.trapMix.note(TrapKind.MAILBOX);
    this.wakeFdWaitersAfter(f.nr);
    slot.answer(r, hasDeliverable(t) || Atomics.load(this.kernel.control, Control.PREEMPT_REQUEST_BASE + c.cpu) !== 0);
    return true;
  }

  // The polling loop asks these millions of times a second: they allocate nothing (no
  // iterator, no closure), as the collections that garbage caused kept the worker from
  // answering lent threads in time (give-ups).

  /** Whether the loop has something to do without waiting: a thread to run here, or a lent one back. */
  private hasWorkHere(): boolean {
    const here = this.cpus[KERNEL_CPU];
    if (here.queue.size > 0) for (const t of here.queue) if (this.mayTake(here, t)) return true;
    return this.anyReturned();
  }

  private anyReturned(): boolean {
    for (let i = 1; i < this.cpus.length; i++) if (this.cpus[i].slot!.state === SlotState.RETURNED) return true;
    return false;
  }

  /** Whether a vCPU other than this one has a thread queued and none running: the loop should lend it. */
  private anyIdleWithWork(): boolean {
    for (let i = 1; i < this.cpus.length; i++) if (!this.cpus[i].running && this.cpus[i].queue.size > 0) return true;
    return false;
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
      const fromTerminal = sig === SIG.INT || sig === SIG.QUIT || sig === SIG.TSTP || sig === SIG.WINCH;
      const group = fromTerminal ? consoleForegroundGroup() ?? init.pgid : null;
      for (const p of this.residents.values()) {
        if (group === null ? p === init : p.pgid === group) sendSignal(p, null, { signo: sig, code: SI_KERNEL });
      }
    }
  }

  /** Waits (up to timeoutMs; 0 polls) for parked threads' fds, deadlines and the doorbell. */
  private collectWakeups(timeoutMs: number): void {
    if (timeoutMs === 0 && this.blocked.size === 0) return fireRealTimers(this.residents.values(), monotonicMs());
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
    fireRealTimers(this.residents.values(), now);
  }

  private nextDeadline(): number {
    let next = nextRealTimer(this.residents.values());
    for (const t of this.blocked) next = Math.min(next, t.parked!.wait.deadline ?? Infinity);
    return next === Infinity ? Infinity : Math.max(0, next - monotonicMs());
  }

  /**
   * Makes t ready to execute on engine: finishes or interrupts the syscall it was parked in and
   * delivers its signals. Returns false when it must not execute now (parked again, stopped, dead).
   */
  private prepare(t: Thread, engine: CpuBackend): boolean {
    let restart: RestartDecision | null = null;
    if (t.parked) {
      const parked = t.parked;
      t.parked = null;
      if (t.signalInterrupt && parked.interruptible !== 'resume') {
        parked.cancel?.();
        restart = new RestartDecision(engine, !NOT_RESTARTABLE.has(t.parkedNr) && parked.restartable !== false, t.parkedNr, parked.interrupted, parked.moved);
      } else if (!this.settle(t, engine, resume(t, parked.resume))) {
        return false;
      }
    }
    t.signalInterrupt = false;
    const delivery = deliverPending(t, engine, restart);
    if (delivery.kind === 'fatal') {
      this.fatalSignal(t, delivery.status, `killed by signal ${delivery.status}`);
      return false;
    }
    if (delivery.kind === 'stop') {
      this.stopProcess(t.process, delivery.sig);
      this.switchOut(t, engine, 'front');
      return false;
    }
    if (t.rseqCpu !== t.cpu) {
      publishRseqCpu(t, t.cpu);
      t.rseqCpu = t.cpu;
    }
    return true;
  }

  /** Executes t here, on vCPU 0's own engine, until it leaves the engine. */
  private runThread(t: Thread): void {
    const mm = t.mm;
    const engine = this.switchIn(t);
    if (!this.prepare(t, engine)) return this.retireIfReplaced(t, mm);
    this.rescheduleRequested = false;
    this.lendPending = false;
    this.pending = null;
    const c = this.cpus[KERNEL_CPU];
    this.startExecuting(c, t);
    // Other vCPUs raise this vCPU's preemption word when they give a thread back; clear what
    // was raised for returns already served, or the engine would stop before running anything.
    // A host signal or monitor request that came since the loop looked must still stop it: a
    // thread that never traps would otherwise keep them waiting.
    const control = this.kernel.control;
    Atomics.store(control, Control.PREEMPT_REQUEST_BASE + KERNEL_CPU, 0);
    const waiting = this.anyReturned()
      || Atomics.load(control, Control.HOST_SIGNALS) !== 0 || Atomics.load(control, Control.MONITOR_REQUEST) !== 0;
    if (waiting) Atomics.store(control, Control.PREEMPT_REQUEST_BASE + KERNEL_CPU, 1);
    const stop = engine.run();
    c.traps++;
    this.stopExecuting(c);
    Atomics.store(this.kernel.control, Control.PREEMPT_REQUEST_BASE + KERNEL_CPU, 0);
    this.afterStop(t, engine, stop);
    this.retireIfReplaced(t, mm);
  }

  private countSyscall(c: CpuState, t: Thread, nr: number): void {
    c.syscalls++;
    t.syscalls++;
    if (nr >= 0 && nr < this.syscallCounts.length) this.syscallCounts[nr]++;
  }

  private startExecuting(c: CpuState, t: Thread): void {
    if (c.lastTid !== t.tid) c.switches++;
    c.lastTid = t.tid;
    c.running = t;
    c.runningMm = t.mm;
    c.runningSince = monotonicMs();
    c.noteRtStall(false, c.runningSince);
    if (this.exclusive) this.executing.set(t.mm, c.cpu);
    const line = this.tokenLine.get(t.mm);
    if (line?.[0] === c.cpu) line.shift();
    c.updateTick(this.wantsTick(c));
  }

  /**
   * Besides the reasons CpuState.updateTick knows: a thread elsewhere waits for the address space
   * c executes; and vCPU 0 polls parked threads' fds and deadlines only from its loop, so it
   * leaves a thread that never traps every tick while a parked thread waits for one. A thread
   * parked on a futex or an event without a deadline is woken by a syscall, which vCPU 0
   * serves anyway: ticking for it cost a computing thread on vCPU 0 an exit every 4 ms while
   * its process's main thread sat in pthread_join (about 200 a second on KVM, measured).
   */
  private wantsTick(c: CpuState): boolean {
    return (c.runningMm !== null && this.tokenWanted.has(c.runningMm))
      || (c.cpu === KERNEL_CPU && (this.anyPolledWait() || nextRealTimer(this.residents.values()) !== Infinity));
  }

  private anyPolledWait(): boolean {
    for (const t of this.blocked) {
      const w = t.parked!.wait;
      if (w.kind === 'fd' || w.kind === 'fds' || w.deadline !== undefined) return true;
    }
    return false;
  }

  private stopExecuting(c: CpuState): void {
    const t = c.running!;
    if (this.executing.get(c.runningMm!) === c.cpu) this.executing.delete(c.runningMm!);
    const now = monotonicMs();
    if (rank(t) > 0) c.throttle.charge(c.runningSince, now);
    c.noteRtStall(rank(t) > 0, now); // until the loop looks again: serving t's trap is its time
    c.busyMs += now - c.runningSince;
    t.cpuMs += now - c.runningSince;
    c.running = null;
    c.runningMm = null;
    c.remoteSlot = null; // its flag is down: serveReturns stopped serving before the return
    Atomics.store(this.kernel.control, Control.TICK_WANTED_BASE + c.cpu, 0);
  }

  // ---- Lending threads to the other vCPUs ----

  /**
   * Each idle vCPU gets the best thread it may run (its own queue first, then a busy vCPU's).
   * Until none is lent: preparing a thread can queue another for a vCPU already passed (it dies
   * of a signal, and its parent wakes), and nothing would wake the loop for it.
   */
  private lendToIdleCpus(): void {
    const others = this.cpus.length - 1;
    for (let lent = true; lent; this.dispatchTurn++) {
      lent = false;
      for (let i = 0; i < others; i++) {
        const c = this.cpus[1 + ((this.dispatchTurn + i) % others)];
        if (c.running) continue;
        const t = this.pick(c) ?? this.steal(c);
        if (!t) continue;
        if (this.kernelCpuRunsFirst(t)) {
          c.queue.add(t, true);
          this.tokenLine.set(t.mm, [KERNEL_CPU, c.cpu]);
        } else {
          this.lend(c, t);
          lent = true;
        }
      }
    }
  }

  /**
   * Whether idle vCPU 0 is about to run a thread of t's address space that ranks with t: then
   * vCPU 0 goes first and t's vCPU next in the token's line. This is the thread a syscall of
   * t's just woke (a futex wake, a pipe write): it runs at once, as on an idle CPU on Linux,
   * and where syscalls cost least, instead of after everything t does before its next trap.
   */
  private kernelCpuRunsFirst(t: Thread): boolean {
    const k = this.cpus[KERNEL_CPU], next = k.queue.first;
    if (!this.exclusive || k.running || !next || next.mm !== t.mm || next.process.stopped || rank(next) < rank(t)) return false;
    // Anyone already waiting, t's vCPU included (vCPU 0 went first once already): no overtaking.
    // Otherwise a thread that keeps yielding on vCPU 0 would go first for ever.
    if (this.tokenLine.get(t.mm)?.length) return false;
    return rank(next) <= 0 || !k.throttle.throttled(monotonicMs()) || !k.queue.hasNormal();
  }

  /** Prepares t on vCPU 0's engine, then hands its registers (and, if changed, its address space's regions) to c. */
  private lend(c: CpuState, t: Thread): void {
    const mm = t.mm;
    const engine = this.switchIn(t);
    if (!this.prepare(t, engine)) return this.retireIfReplaced(t, mm);
    let regions: EngineRegion[] | null = null;
    if (c.sentLayouts.get(mm.id) !== mm.layoutVersion) {
      regions = mm.engineRegions();
      if (regions.length > MAX_SLOT_REGIONS) {
        // Too many regions to send: the thread stays on vCPU 0 for good.
        t.affinity = 1n << BigInt(KERNEL_CPU);
        this.kernel.warnOnce('regions', `pid ${t.process.pid} has more than ${MAX_SLOT_REGIONS} mappings: its threads run on vCPU 0 only`);
        return this.switchOut(t, engine, 'front');
      }
      c.sentLayouts.set(mm.id, mm.layoutVersion);
    }
    engine.exportRegisters(c.slot!.context);
    this.current = null;
    this.startExecuting(c, t);
    // Polled from before the thread can make its next call (one that finds the flag down leaves
    // through an exit), unless this loop has a thread of its own to run: a call that saw the
    // flag up would wait until the loop lowers it.
    c.remoteSlot = this.remoteSyscalls ? engine.remoteSyscallSlot?.(c.cpu) ?? null : null;
    c.remoteGiveUps = c.remoteSlot?.giveUps ?? 0;
    if (c.remoteSlot && (this.servingRemote || this.remoteCallsRecent()) && !this.hasWorkHere()) this.startServingRemote();
    c.slot!.assign(mm.id, regions, c.retired);
  }

  /** Serves the lent threads that came back: their syscalls, faults and preemptions. */
  private serveReturns(): void {
    for (const c of this.cpus) {
      if (c.running && c.slot!.state === SlotState.RETURNED) {
        this.noteRemoteGiveUps(c);
        this.stopServingRemote();
        this.serveReturn(c);
      }
    }
  }

  private serveReturn(c: CpuState): void {
    const t = c.running!;
    const mm = c.runningMm!;
    c.traps++;
    this.stopExecuting(c);
    const slot = c.slot!;
    const stop = slot.stop();
    if (t.state === 'dead') return slot.release();
    const engine = this.engineFor(mm);
    t.engine = engine;
    this.current = t;
    engine.importRegisters(slot.context);
    slot.release();
    if (stop.kind === 'trap') {
      this.lastRemoteCallAt = performance.now();
      this.serveSyscall(t, engine);
    } else if (stop.kind === 'fault' && !stop.mapped && mm.accessible(stop.addr, stop.access)) {
      // A mapping newer than the vCPU's region list: send it again, or (shared page tables) map it here.
      if (engine.sharedMappings) mm.engineFault(engine, stop.addr, stop.access);
      else c.sentLayouts.delete(mm.id);
      t.trapMix.note(TrapKind.OTHER);
      if (this.comesHome(t)) t.cpu = KERNEL_CPU;
      this.switchOut(t, engine, 'front');
    } else {
      this.afterStop(t, engine, stop);
    }
    if (waitsForThread(t)) slot.expectWake();
    this.retireIfReplaced(t, mm);
  }

  /** A lent thread's syscall, served here; the thread then goes back to its vCPU's queue. */
  private serveSyscall(t: Thread, engine: CpuBackend): void {
    const regs = this.regs;
    engine.getRegs(regs);
    const nr = Number(regs[Reg.RAX]);
    const args = SYSCALL_ARG_REGS.map((r) => Number(regs[r]));
    // Handlers see the registers as inside the syscall hook (RIP at the syscall instruction);
    // afterwards RIP is past it, as after an engine stop in the hook.
    const next = regs[Reg.RIP];
    engine.setReg(Reg.RIP, next - 2n);
    this.rescheduleRequested = false;
    this.countSyscall(this.cpus[t.cpu], t, nr);
    const r = dispatch(this.table, t, nr, args);
    this.wakeFdWaitersAfter(nr);
    engine.setReg(Reg.RIP, next);
    // It crossed, whatever it was: a call the mailbox could serve comes this way when vCPU 0
    // was busy or away (a give-up), and then costs what any other trap does.
    t.trapMix.noteCall(false, r);
    if (this.comesHome(t)) t.cpu = KERNEL_CPU;
    if (typeof r !== 'number' && r.kind === 'block') t.parkedNr = nr;
    if (this.settle(t, engine, r)) this.switchOut(t, engine, this.rescheduleRequested ? 'back' : 'front');
  }

  // ---- Switching ----

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
    engine.saveContext(t.context, true);
    this.current = null;
    if (requeue === 'park') {
      t.state = 'blocked';
      this.blocked.add(t);
      return;
    }
    t.state = 'runnable';
    this.enqueue(t, requeue === 'front', false);
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
      // A signal that came while the thread was on its way here (from another vCPU) ends the
      // wait at once, as Linux's signal_pending check before sleeping does.
      if (r.interruptible !== false && hasDeliverable(t)) {
        t.signalInterrupt = true;
        this.wake(t);
      }
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
        else this.switchOut(t, engine, this.rescheduleRequested ? 'back' : 'front'); // a reschedule, a signal, a hand-over
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
    t.kernel.events.emit({ event: 'killed', pid: t.process.pid, tid: t.tid, signal: signalName(sig), reason: what });
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
    if (last) this.endProcess(p, status, t.name);
  }

  private retireThread(t: Thread): void {
    t.state = 'dead';
    t.context?.free();
    t.context = null;
    t.process.threads.delete(t);
    if (this.current === t) this.current = null;
  }

  private endProcess(p: Process, status: number, comm: string): void {
    p.comm = comm;
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
    const signo = status & 0x7f;
    p.kernel.events.emit({
      event: 'process-exit', pid: p.pid, comm, exe: p.exePath,
      code: signo === 0 ? (status >> 8) & 0xff : null, signal: signo === 0 ? null : signalName(signo),
    });
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
      this.enqueue(t, false, false);
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
    p.kernel.events.emit({ event: 'process-start', pid: p.pid, ppid: p.ppid, comm: [...p.threads][0]?.name ?? '' });
  }

  processes(): Iterable<Process> {
    return this.residents.values();
  }

  process(pid: number): Process | undefined {
    return this.residents.get(pid);
  }
}

const INIT_PID = 1;
/** Syscall numbers the monitor counts (x86-64 numbers stay below this). */
const SYSCALL_COUNTS = 512;
const CLD_EXITED = 1, CLD_KILLED = 2, CLD_STOPPED = 5, CLD_CONTINUED = 6;
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, TRAP_BRKPT = 1, SI_KERNEL = 0x80;
/** Syscalls Linux never restarts after a handler (they return EINTR, or ERESTART_RESTARTBLOCK/NOHAND). */
const NOT_RESTARTABLE = new Set([7, 23, 34, 35, 128, 130, 230, 232, 270, 271, 281, 441]);
/**
 * Syscalls that can make a host fd another thread waits on ready: write, pwrite64, writev,
 * close, sendfile, connect, sendto, sendmsg, shutdown, pwritev, sendmmsg, pwritev2.
 */
const MAY_READY_FDS = new Set([1, 18, 20, 3, 40, 42, 44, 46, 48, 296, 307, 328]);
/** Where a syscall's six arguments are. */
const SYSCALL_ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

function openStrace(spec: BootSpec['strace']): Strace | null {
  if (!spec) return null;
  const fd = spec.file ? openSync(spec.file, 'w') : 2;
  return new Strace((line) => writeSync(fd, line + '\n'));
}

/** vCPU 0's task (worker.ts): boots the kernel and the first program, and runs until it ends. */
export async function runKernelCpu(task: VcpuTask, boot: BootSpec, engines: EngineFactory): Promise<VcpuResult> {
  const control = new Int32Array(task.control);
  const vfs = new Vfs(boot.rootfs, boot.binds, { cpus: task.cpus, consolePath: task.console?.hostPath ?? null });
  let vcpu: Vcpu | null = null;
  const futexes = new FutexTable((t) => vcpu!.wake(t));
  const events: EventSink = { emit: (e) => vcpu?.monitor?.emit(e) };
  const kernel = new WorkerKernel(task.cpus, task.memory, control, vfs, openStrace(boot.strace),
    task.bootTimeMs, futexes, {
      add: (t) => vcpu!.add(t), requestReschedule: () => vcpu!.requestReschedule(),
      reprioritize: (t) => vcpu!.reprioritize(t), kill: (t) => vcpu!.kill(t), wake: (t) => vcpu!.wake(t),
      processes: () => vcpu!.processes(), continueProcess: (p) => vcpu!.continueProcess(p),
      interrupt: (t) => vcpu!.interrupt(t), affinityChanged: (t) => vcpu!.affinityChanged(t), quiesce: (mm) => vcpu!.quiesce(mm),
      timersChanged: () => vcpu!.timersChanged(),
    }, networkBridge(boot.network), events, task.guestClockFd === null ? null : new VdsoImage(task.guestClockFd));
  vcpu = new Vcpu(kernel, task.slots, engines);
  if (task.monitor) vcpu.monitor = new MonitorAgent(task.monitor, control, vcpu);
  vfs.setProcessDirectory(() => ({
    get: (pid) => [...vcpu!.processes()].find((p) => p.pid === pid),
    pids: () => [...vcpu!.processes()].map((p) => p.pid).sort((a, b) => a - b),
  }));
  const pid = kernel.allocateId();
  const files = new FdTable();
  openStandardStreams(files, task.console?.hostFd ?? null);
  const p = new Process(kernel, pid, 0, kernel.newAddressSpace(), files, { cwd: boot.cwd, umask: 0o022 });
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

/**
 * Whether t waits for another thread of the guest to wake it: a futex or an event (a child's
 * exit, a signal) without a timeout. Its vCPU may poll for that wake (idle-poll.ts); a timed
 * wait is woken by vCPU 0's own clock, which polling would not make sooner.
 */
function waitsForThread(t: Thread): boolean {
  const wait = t.state === 'blocked' ? t.parked?.wait : undefined;
  return wait !== undefined && (wait.kind === 'futex' || wait.kind === 'event') && wait.deadline === undefined;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
function pathOf(env: string[]): string {
  return env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
}
