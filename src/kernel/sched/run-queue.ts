// The threads waiting for one vCPU, in the order Linux's scheduling classes would pick them:
// real-time (SCHED_FIFO, SCHED_RR) by priority, then SCHED_OTHER and SCHED_BATCH, then
// SCHED_IDLE; first come, first served within a rank.
import type { Thread } from '../task.js';

export const Policy = { OTHER: 0, FIFO: 1, RR: 2, BATCH: 3, IDLE: 5 } as const;

/** Higher runs first: 1..99 for real-time priorities, 0 for normal threads, -1 for SCHED_IDLE. */
export function rank(t: Thread): number {
  if (t.policy === Policy.FIFO || t.policy === Policy.RR) return t.rtPriority;
  return t.policy === Policy.IDLE ? -1 : 0;
}

export class RunQueue {
  private readonly threads: Thread[] = [];

  get size(): number {
    return this.threads.length;
  }

  /** Adds t behind every thread of its rank (or in front of them, for a preempted FIFO thread). */
  add(t: Thread, front = false): void {
    const r = rank(t);
    let i = front ? this.threads.findIndex((x) => rank(x) <= r) : this.threads.findIndex((x) => rank(x) < r);
    if (i < 0) i = this.threads.length;
    this.threads.splice(i, 0, t);
  }

  remove(t: Thread): void {
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
  }

  /** The best waiting thread that eligible accepts; with realTime false, the best one that is not real-time. */
  takeNext(realTime = true, eligible: (t: Thread) => boolean = () => true): Thread | undefined {
    const i = this.threads.findIndex((t) => (realTime || rank(t) <= 0) && eligible(t));
    return i < 0 ? undefined : this.threads.splice(i, 1)[0];
  }

  /** The waiting threads, best first. */
  [Symbol.iterator](): Iterator<Thread> {
    return this.threads[Symbol.iterator]();
  }

  hasNormal(): boolean {
    return this.threads.some((t) => rank(t) <= 0);
  }

  /** The best waiting thread. */
  get first(): Thread | undefined {
    return this.threads[0];
  }

  /** The rank of the best waiting thread, or -Infinity. */
  get topRank(): number {
    return this.threads.length ? rank(this.threads[0]) : -Infinity;
  }
}
