// What vCPU 0's scheduler knows of each vCPU: its run queue, its real-time budget, the thread
// executing there, and (for the other vCPUs) the execution slot threads are lent through.
import type { Thread } from '../kernel/task.js';
import type { RemoteSyscallSlot } from './backend.js';
import type { AddressSpace } from '../kernel/mm/address-space.js';
import { RunQueue, rank, Policy } from '../kernel/sched/run-queue.js';
import { RtThrottle } from '../kernel/sched/rt-throttle.js';
import type { ExecSlot } from '../shared-mem/exec-slot.js';
import { Control } from '../shared-mem/layout.js';
import { requestPreempt, requestTick } from '../shared-mem/preempt.js';

export class CpuState {
  readonly queue = new RunQueue();
  readonly throttle = new RtThrottle();
  /** The thread executing guest code there now (or, lent, until vCPU 0 has served its return). */
  running: Thread | null = null;
  /** The address space the running thread executes, and since when (ms). */
  runningMm: AddressSpace | null = null;
  runningSince = 0;
  /** Where the lent thread executing there publishes its syscalls, when the backend has such a place. */
  remoteSlot: RemoteSyscallSlot | null = null;
  /** Its giveUps when the thread was lent. */
  remoteGiveUps = 0;
  /** Layout versions of the address spaces whose region lists this vCPU holds, by AddressSpace.id. */
  readonly sentLayouts = new Map<number, number>();
  /** Address spaces this vCPU has engines for that no longer exist. */
  readonly retired: number[] = [];
  /**
   * What the monitor shows: ms spent executing guest code; syscalls of threads running here;
   * traps (the engine left guest code: a syscall that could not be served inside the hook,
   * a fault, a preemption); context switches (it started executing another thread than the last one).
   */
  busyMs = 0;
  syscalls = 0;
  traps = 0;
  switches = 0;
  lastTid = 0;

  /** Since when this vCPU has owed its time to a real-time thread it is not running (null: it does not). */
  private rtStallSince: number | null = null;

  constructor(readonly cpu: number, readonly slot: ExecSlot | null, private readonly control: Int32Array) {}

  allows(t: Thread): boolean {
    return ((t.affinity >> BigInt(this.cpu)) & 1n) !== 0n;
  }

  /**
   * How much work this vCPU has that a thread of mm would compete with: with the execution token
   * (exclusive) only other address spaces' work counts, as mm's threads take turns anyway.
   */
  loadAgainst(mm: AddressSpace, exclusive: boolean): number {
    let load = this.running && (!exclusive || this.runningMm !== mm) ? 1 : 0;
    for (const x of this.queue) if (!exclusive || x.mm !== mm) load++;
    return load;
  }

  /**
   * Time a real-time thread is this vCPU's choice but does not execute counts as its running
   * time: waiting for the execution token, and the time vCPU 0's thread spends serving traps
   * (the thread's own syscalls, which Linux also counts, and, on vCPU 0, other vCPUs'
   * threads' traps). To the guest the thread held this CPU (the emulator only makes the CPU
   * slower), so a normal thread queued behind it still gets its 5% (Linux's RT throttling).
   * Without this, a FIFO spinner on vCPU 0 that vCPU 1's syscalls keep interrupting executes
   * a fraction of the time and is never throttled (measured on KVM: 8 ms charged in 20).
   * Stalled from the moment such a thread leaves the engine (stopExecuting) until the loop
   * next looks (noteTokenWaiters) or a thread starts there.
   */
  noteRtStall(stalled: boolean, now: number): void {
    if (this.rtStallSince !== null) this.throttle.charge(this.rtStallSince, now);
    this.rtStallSince = stalled ? now : null;
  }

  /** Asks the engine executing there to stop at its next translation block. */
  preempt(): void {
    requestPreempt(this.control, this.cpu);
  }

  /**
   * Whether the ticker should preempt the running thread: others wait for this vCPU and it is
   * time-sliced (FIFO threads are not, but normal threads waiting behind one need the tick for
   * RT throttling), or the scheduler has a reason of its own (extra).
   */
  updateTick(extra: boolean): void {
    const t = this.running;
    const waiting = t !== null && this.queue.size > 0 && (t.policy !== Policy.FIFO || this.queue.hasNormal());
    const wanted = waiting || (t !== null && extra) ? 1 : 0;
    const was = Atomics.exchange(this.control, Control.TICK_WANTED_BASE + this.cpu, wanted);
    // vCPU 0's own run loop looks at the word before each entry into guest code.
    if (wanted && !was && this.slot) requestTick(this.control, this.cpu);
  }
}

/**
 * Where a thread should run: among the vCPUs its mask allows, the one with the least work it
 * competes with (with the execution token, threads of one address space never execute at
 * once, so spreading them gains nothing). Ties go to vCPU 0, where syscalls are served
 * without leaving the engine (on KVM: without crossing to vCPU 0 and back), then to the
 * thread's current vCPU; with kernelCpuLast (a thread whose calls the KVM syscall mailbox
 * serves: TrapMix), to its current vCPU, then to any but vCPU 0, which then serves them.
 */
export function placeThread(t: Thread, cpus: readonly CpuState[], exclusive: boolean, kernelCpuLast: boolean): number {
  // Among equal loads the lowest of these wins, then the lowest vCPU number.
  const tieOrder = kernelCpuLast
    ? (cpu: number) => (cpu === 0 ? 2 : cpu === t.cpu ? 0 : 1)
    : (cpu: number) => (cpu === 0 ? 0 : cpu === t.cpu ? 1 : 2);
  let best = -1, bestLoad = Infinity;
  for (const c of cpus) {
    if (!c.allows(t)) continue;
    const load = c.loadAgainst(t.mm, exclusive);
    if (load < bestLoad || (load === bestLoad && tieOrder(c.cpu) < tieOrder(best))) [best, bestLoad] = [c.cpu, load];
  }
  return best < 0 ? 0 : best;
}
