/**
 * A lock on one Int32 word of a SharedArrayBuffer. Holders never block inside it for long
 * (the frame pool's critical sections are a few bitmap operations), so waiters spin briefly
 * and then sleep on the word.
 */
export class SpinLock {
  constructor(private readonly words: Int32Array, private readonly index: number) {}

  acquire(): void {
    for (let spins = 0; Atomics.compareExchange(this.words, this.index, 0, 1) !== 0; spins++) {
      if (spins > 100) Atomics.wait(this.words, this.index, 1, 1);
    }
  }

  release(): void {
    Atomics.store(this.words, this.index, 0);
    Atomics.notify(this.words, this.index, 1);
  }

  with<T>(fn: () => T): T {
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }
}
