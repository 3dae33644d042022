import { CHUNK_SIZE, Control } from './layout.js';
import { SpinLock } from './spin-lock.js';

/** Bytes the pool grows by at a time: growing is a host mprotect, so do it in large steps. */
const GROW_STEP = 64 * 1024 * 1024;

/**
 * The physical page pool: runs of CHUNK_SIZE frames inside the guest-memory
 * SharedArrayBuffer, shared by every worker. Allocation state lives in the control buffer
 * (bitmap, counters) under POOL_LOCK, so any vCPU may allocate or free. Frames are handed out
 * zero-filled and untouched: the host commits memory only for bytes the guest touches, and a
 * run is given back to the host (zeroed) by its owner before it is freed.
 */
export class FramePool {
  private readonly lock: SpinLock;
  readonly frameCount: number;
  /** Where the next search starts (a hint; any value is correct). */
  private nextFit = 0;
  /** Set by a failed allocation, cleared by the next one that succeeds: onExhausted hears of each run of failures once. */
  private exhausted = false;

  constructor(
    readonly memory: SharedArrayBuffer,
    private readonly control: Int32Array,
    private readonly onExhausted: (bytes: number) => void = () => {},
  ) {
    this.lock = new SpinLock(control, Control.POOL_LOCK);
    this.frameCount = Math.floor(memory.maxByteLength / CHUNK_SIZE);
  }

  /** Byte offset of count contiguous free frames, or -1 when the pool has no such run. */
  allocateRun(count: number): number {
    const offset = this.takeRun(count);
    if (offset < 0 && !this.exhausted) this.onExhausted(count * CHUNK_SIZE);
    this.exhausted = offset < 0;
    return offset;
  }

  private takeRun(count: number): number {
    return this.lock.with(() => {
      const start = this.findRun(this.nextFit, count) ?? this.findRun(0, count);
      if (start === undefined) return -1;
      const end = (start + count) * CHUNK_SIZE;
      if (!this.ensureGrown(end)) return -1;
      for (let f = start; f < start + count; f++) this.setBit(f, true);
      this.control[Control.POOL_USED] += count;
      this.nextFit = start + count;
      return start * CHUNK_SIZE;
    });
  }

  freeRun(offset: number, count: number): void {
    const first = offset / CHUNK_SIZE;
    this.lock.with(() => {
      for (let f = first; f < first + count; f++) this.setBit(f, false);
      this.control[Control.POOL_USED] -= count;
    });
  }

  /** Frames handed out. */
  get used(): number {
    return Atomics.load(this.control, Control.POOL_USED);
  }

  private bit(frame: number): boolean {
    return (this.control[Control.FRAME_BITMAP_BASE + (frame >>> 5)] & (1 << (frame & 31))) !== 0;
  }

  private setBit(frame: number, on: boolean): void {
    const word = Control.FRAME_BITMAP_BASE + (frame >>> 5);
    if (on) this.control[word] |= 1 << (frame & 31);
    else this.control[word] &= ~(1 << (frame & 31));
  }

  private findRun(from: number, count: number): number | undefined {
    let runStart = from;
    for (let f = from; f < this.frameCount; f++) {
      if (this.bit(f)) {
        runStart = f + 1;
        continue;
      }
      if (f - runStart + 1 === count) return runStart;
    }
    return undefined;
  }

  private ensureGrown(end: number): boolean {
    if (end <= this.memory.byteLength) return true;
    const target = Math.min(this.memory.maxByteLength, Math.ceil(end / GROW_STEP) * GROW_STEP);
    try {
      this.memory.grow(target);
    } catch {
      return false;
    }
    return true;
  }
}
