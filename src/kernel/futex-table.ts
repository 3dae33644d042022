// Futex wait queues. Every thread of a process runs on its process's vCPU (threads do not
// migrate yet), so the queues of that vCPU's processes live with it; a wait's check of the
// futex word and its enqueue are atomic because nothing else runs on the vCPU between.
import type { Thread } from './task.js';

export class FutexWaiter {
  woken = false;
  constructor(readonly thread: Thread, public key: string, readonly bitset: number) {}
}

export class FutexTable {
  private readonly queues = new Map<string, FutexWaiter[]>();

  constructor(private readonly wakeThread: (t: Thread) => void) {}

  enqueue(w: FutexWaiter): void {
    const q = this.queues.get(w.key);
    if (q) q.push(w);
    else this.queues.set(w.key, [w]);
  }

  remove(w: FutexWaiter): void {
    const q = this.queues.get(w.key);
    if (!q) return;
    const i = q.indexOf(w);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.queues.delete(w.key);
  }

  /** Wakes up to count waiters on key whose bitset intersects bitset; returns how many. */
  wake(key: string, count: number, bitset = 0xffffffff): number {
    const q = this.queues.get(key);
    if (!q) return 0;
    let woken = 0;
    for (let i = 0; i < q.length && woken < count; ) {
      const w = q[i];
      if ((w.bitset & bitset) === 0) {
        i++;
        continue;
      }
      q.splice(i, 1);
      w.woken = true;
      woken++;
      this.wakeThread(w.thread);
    }
    if (q.length === 0) this.queues.delete(key);
    return woken;
  }

  /** Wakes up to wakeCount waiters on from, then moves up to moveCount of the rest to to. */
  requeue(from: string, to: string, wakeCount: number, moveCount: number): number {
    const woken = this.wake(from, wakeCount);
    const q = this.queues.get(from);
    if (!q || moveCount <= 0) return woken;
    const moved = q.splice(0, moveCount);
    if (q.length === 0) this.queues.delete(from);
    for (const w of moved) {
      w.key = to;
      this.enqueue(w);
    }
    return woken + moved.length;
  }
}
