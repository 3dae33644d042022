import { CHUNK_SIZE, Control } from './layout.js';
import { SpinLock } from './spin-lock.js';

/** Bytes the pool grows by at a time: growing is a host mprotect, so do it in large steps. */
const GROW_STEP = 64 * 1024 * 1024;

/**
 * The physical page pool: frames of CHUNK_SIZE bytes inside the guest-memory
 * SharedArrayBuffer, shared by every worker. Allocation state lives in the control buffer
 * (bitmap, counters) under POOL_LOCK, so any vCPU may allocate or free.
 */
export class FramePool {
  private readonly lock: SpinLock;
  readonly frameCount: number;

  constructor(readonly memory: SharedArrayBuffer, private readonly control: Int32Array) {
    this.lock = new SpinLock(control, Control.POOL_LOCK);
    this.frameCount = Math.floor(memory.maxByteLength / CHUNK_SIZE);
  }

  /** Byte offset of a free frame, zero-filled, or -1 when the pool is exhausted. */
  allocate(): number {
    const offset = this.lock.with(() => this.claimFrame());
    if (offset >= 0) new Uint8Array(this.memory, offset, CHUNK_SIZE).fill(0);
    return offset;
  }

  free(offset: number): void {
    const frame = offset / CHUNK_SIZE;
    this.lock.with(() => {
      const word = Control.FRAME_BITMAP_BASE + (frame >>> 5);
      this.control[word] &= ~(1 << (frame & 31));
      this.control[Control.POOL_USED]--;
    });
  }

  get used(): number {
    return Atomics.load(this.control, Control.POOL_USED);
  }

  private claimFrame(): number {
    const words = this.frameCount >>> 5;
    for (let w = 0; w < words; w++) {
      const bits = this.control[Control.FRAME_BITMAP_BASE + w];
      if (bits === -1) continue;
      const bit = 31 - Math.clz32(~bits & (bits + 1));
      const frame = w * 32 + bit;
      const offset = frame * CHUNK_SIZE;
      if (!this.ensureGrown(offset + CHUNK_SIZE)) return -1;
      this.control[Control.FRAME_BITMAP_BASE + w] = bits | (1 << bit);
      this.control[Control.POOL_USED]++;
      return offset;
    }
    return -1;
  }

  private ensureGrown(end: number): boolean {
    if (end <= this.memory.byteLength) return true;
    const target = Math.min(this.memory.maxByteLength, Math.ceil(end / GROW_STEP) * GROW_STEP);
    try {
      this.memory.grow(target);
    } catch {
      return false;
    }
    this.control[Control.POOL_GROWN] = target;
    return true;
  }
}
