import type { FramePool } from '../shared-mem/frame-pool.js';
import type { AddressSpace } from './mm/address-space.js';
import type { FdTable } from './files.js';
import type { Vfs } from './vfs/vfs.js';
import type { Strace } from './strace.js';
import type { CpuBackend, ThreadContext } from '../cpu-worker/backend.js';
import { TrapMix } from './sched/trap-mix.js';
import type { FutexTable } from './futex-table.js';
import type { Block } from './syscall.js';
import type { SigInfo } from './signals.js';
import type { NetworkBridge } from '../netbridge/port-map.js';
import type { EventSink } from './events.js';
import type { VdsoImage } from './exec/vdso.js';

/** A guest signal disposition as rt_sigaction stores it (delivery comes with the signals work). */
export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

export interface RLimit {
  cur: number;
  max: number;
}

/** RLIM_INFINITY, as a Number (2^64-1 does not fit; the syscalls translate it). */
export const RLIM_INFINITY = Infinity;

/** Machine-wide kernel state visible to handlers on this worker. */
export interface Kernel {
  readonly cpus: number;
  readonly pool: FramePool;
  readonly poolAddress: number;
  readonly memBytes: number;
  readonly vfs: Vfs;
  readonly strace: Strace | null;
  readonly bootTimeMs: number;
  readonly futexes: FutexTable;
  /** Host ports standing for guest ports, and whether listeners stay on loopback. */
  readonly network: NetworkBridge;
  /** This vCPU's scheduler, as syscalls see it. */
  readonly scheduler: SchedulerPort;
  /** The machine's event log. */
  readonly events: EventSink;
  /** The vDSO and [vvar] page exec maps into every process (null: none, every clock read is a syscall). */
  readonly vdso: VdsoImage | null;
  /** Prints a one-line warning to the host's stderr once per key. */
  warnOnce(key: string, message: string): void;
  allocateId(): number;
  /** An empty address space whose changes stop other vCPUs executing it first (SchedulerPort.quiesce). */
  newAddressSpace(): AddressSpace;
  /** Counts a new process against --max-procs; false when the machine is full. */
  reserveProcess(): boolean;
  releaseProcess(): void;
}

/** What syscalls may ask of the vCPU's scheduler. */
export interface SchedulerPort {
  /** A new thread, ready to run. */
  add(t: Thread): void;
  /** The calling thread should give up the CPU once its syscall returns (sched_yield, a wake of a higher-ranked thread). */
  requestReschedule(): void;
  /** A thread's policy or priority changed: re-sort it, and preempt the caller if it now ranks higher. */
  reprioritize(t: Thread): void;
  /** Removes a thread that is not the caller from the CPU (exit_group, exec): it never runs again. */
  kill(t: Thread): void;
  /** Ends the wait of a thread parked on an event wait (wait4, vfork). */
  wake(t: Thread): void;
  /** The processes living on this vCPU: kill's targets. */
  processes(): Iterable<Process>;
  /** SIGCONT (or SIGKILL) to a stopped process: its threads may run again. */
  continueProcess(p: Process): void;
  /** A signal for a thread that is running guest code: make it enter the kernel soon. */
  interrupt(t: Thread): void;
  /** t's affinity changed: a thread outside its mask moves before it runs guest code again. */
  affinityChanged(t: Thread): void;
  /** Returns once no vCPU but the caller's is executing mm (a TLB shootdown before mm changes). */
  quiesce(mm: AddressSpace): void;
  /** A process's interval timer was armed or disarmed: vCPU 0 must see its expiry even while a thread computes. */
  timersChanged(): void;
}

/** Per-process filesystem context (CLONE_FS shares it). */
export interface FsContext {
  /** Canonical guest path of the working directory. */
  cwd: string;
  umask: number;
}

export class Process {
  readonly threads = new Set<Thread>();
  readonly sigactions = new Map<number, SigAction>();
  readonly rlimits = new Map<number, RLimit>();
  /** Guest path of the running executable (/proc/self/exe). */
  exePath = '';
  /** argv of the running image (/proc/PID/cmdline). */
  cmdline: string[] = [];
  /** envp the running image was started with (/proc/PID/environ). */
  environ: string[] = [];
  /** Wait status once the process has exited. */
  exitStatus: number | null = null;
  /** ITIMER_REAL (alarm, setitimer): next expiry on the monotonic timeline and reload interval, in ms; fork does not inherit it. */
  realTimer: { deadline: number; intervalMs: number } | null = null;
  parent: Process | null = null;
  readonly children = new Set<Process>();
  /** Signal sent to the parent when this process ends (SIGCHLD for fork; 0 for clone without one). */
  exitSignal = 17;
  /** Threads of this process parked in wait4/waitid until a child changes state. */
  readonly childWaiters = new Set<Thread>();
  /** Signals sent to the process (kill) and not delivered yet, with what each carries. */
  pendingSignals = 0n;
  readonly pendingInfo = new Map<number, SigInfo>();
  /** Stopped by a job-control signal, until SIGCONT (or SIGKILL). */
  stopped = false;
  /** A stop or continue not yet reported to a wait4/waitid with WUNTRACED/WCONTINUED. */
  jobReport: { kind: 'stopped'; sig: number } | { kind: 'continued' } | null = null;
  /** Whether the process has called execve since fork (setpgid on it is then EACCES). */
  execed = false;
  /** A vfork parent thread, suspended until this child execs or exits. */
  vforkParent: Thread | null = null;
  pgid: number;
  sid: number;
  /** PR_SET_DUMPABLE. */
  dumpable = 1;
  /** The name of its last thread, once the process has ended (a zombie's comm). */
  comm = '';
  /** Syscall numbers without a handler that this process has called (each is logged once). */
  readonly unknownSyscalls = new Set<number>();

  /** Forgets an ended child for good: it no longer counts against --max-procs. */
  reap(child: Process): void {
    if (this.children.delete(child)) this.kernel.releaseProcess();
  }

  constructor(
    readonly kernel: Kernel,
    readonly pid: number,
    public ppid: number,
    public mm: AddressSpace,
    public files: FdTable,
    public fs: FsContext,
  ) {
    this.pgid = pid;
    this.sid = pid;
  }
}

export type ThreadState = 'runnable' | 'running' | 'blocked' | 'dead';

export class Thread {
  state: ThreadState = 'runnable';
  /** Scheduling policy (sched/run-queue.ts Policy) and real-time priority 1..99 (0 for others). */
  policy = 0;
  rtPriority = 0;
  nice = 0;
  /** Saved registers while the thread is off its engine; null before its first switch-out. */
  context: ThreadContext | null = null;
  /** Registers a clone child starts with, applied over its context at its first run. */
  startFixups: { rip: number; rsp: number; fsBase: number | null } | null = null;
  /** The syscall the thread is parked in, while blocked. */
  parked: Block | null = null;
  /** CLONE_CHILD_CLEARTID / set_tid_address word, 0 when none. */
  clearChildTid = 0;
  robustList = 0;
  /** Status passed to exit/exit_group, once the thread has called it. */
  exitCode: number | null = null;
  robustListLen = 0;
  sigmask = 0n;
  /** Signals sent to this thread and not delivered yet, with what each carries. */
  pendingSignals = 0n;
  readonly pendingInfo = new Map<number, SigInfo>();
  /** A signal arrived while the thread was parked: its syscall ends with EINTR or restarts. */
  signalInterrupt = false;
  /** Signals the thread waits for in rt_sigtimedwait (0n when it does not). */
  sigwaitSet = 0n;
  /** rt_sigsuspend's caller mask, restored when a handler returns. */
  suspendedSigmask: bigint | null = null;
  /** Register states saved at each signal delivery, for rt_sigreturn (innermost last). */
  readonly signalContexts: ThreadContext[] = [];
  /** The number of the syscall the thread is parked in (for restarts). */
  parkedNr = 0;
  altStack = { sp: 0, flags: 2 /* SS_DISABLE */, size: 0 };
  /** The engine running this thread while it is on a vCPU (arch_prctl and exec reach registers through it). */
  engine: CpuBackend | null = null;
  /** Registers exec asks the vCPU to start the new image with. */
  startRegisters: { rip: number; rsp: number } | null = null;
  /** The registered rseq area (glibc registers one per thread), or null. */
  rseq: { addr: number; len: number; sig: number } | null = null;
  parentDeathSignal = 0;
  /** set_mempolicy's mode (MPOL_DEFAULT: 0). */
  memoryPolicy = 0;
  noNewPrivs = false;
  timerSlackNs = 50_000;
  /** CPUs this thread may run on (sched_setaffinity), one bit per vCPU. */
  affinity: bigint;
  /** The vCPU the thread runs on, or last ran on, or is queued for. */
  cpu = 0;
  /** The cpu last written to the thread's rseq area. */
  rseqCpu = -1;
  /** Its recent traps, by what they cost where (placement). */
  readonly trapMix = new TrapMix();
  /** comm: 15 bytes at most (PR_SET_NAME). */
  name: string;
  /** Milliseconds spent executing guest code, and syscalls made: what the monitor shows. */
  cpuMs = 0;
  syscalls = 0;

  constructor(readonly tid: number, readonly process: Process, name: string) {
    this.name = name.slice(0, 15);
    this.affinity = (1n << BigInt(process.kernel.cpus)) - 1n;
  }

  get kernel(): Kernel {
    return this.process.kernel;
  }

  get mm(): AddressSpace {
    return this.process.mm;
  }
}
