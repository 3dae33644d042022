import { writeSync } from 'node:fs';
import { Control } from './layout.js';

/**
 * vCPU 0's doorbell: it waits in a host ppoll on parked threads' fds and on an eventfd of its
 * own, published in the control buffer (the other vCPUs wait on their execution slots). Ringing writes to that eventfd, which
 * is an ordinary fd of this host process, so any thread may ring it.
 */
export function ringDoorbell(control: Int32Array, cpu: number): void {
  const fd = Atomics.load(control, Control.DOORBELL_FD_BASE + cpu);
  if (fd <= 0) return; // not created yet: the vCPU checks the machine state after creating it
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  try {
    writeSync(fd, one);
  } catch {
    // EAGAIN: the counter is already non-zero, so the vCPU will wake anyway.
  }
}
