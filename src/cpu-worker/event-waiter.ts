// How vCPU 0 sleeps when idle: one host ppoll on the fds its parked threads wait for and on its
// doorbell eventfd (shared-mem/doorbell.ts), with the nearest deadline as the timeout.
import { Control } from '../shared-mem/layout.js';
import { addressOf, hostSyscall } from '../kernel/host/libc.js';

const HOST_EVENTFD2 = 290, HOST_PPOLL = 271, HOST_READ = 0;
const EFD_CLOEXEC = 0o2000000, EFD_NONBLOCK = 0o4000;
const POLLIN = 1;
const MAX_FDS = 4096;

export class EventWaiter {
  private readonly doorbellFd: number;
  private readonly area = new SharedArrayBuffer(16 + 8 * (MAX_FDS + 1));
  private readonly view = new DataView(this.area);
  private readonly address = addressOf(this.area);

  constructor(control: Int32Array, cpu: number) {
    this.doorbellFd = hostSyscall(HOST_EVENTFD2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.doorbellFd < 0) throw new Error(`eventfd: errno ${-this.doorbellFd}`);
    Atomics.store(control, Control.DOORBELL_FD_BASE + cpu, this.doorbellFd);
  }

  /** Waits up to timeoutMs (Infinity: until something happens); returns which fds are ready. */
  wait(fds: Array<{ fd: number; events: number }>, timeoutMs: number): boolean[] {
    const n = Math.min(fds.length, MAX_FDS);
    const v = this.view;
    const entry = (i: number) => 16 + 8 * i;
    v.setInt32(entry(0), this.doorbellFd, true);
    v.setInt16(entry(0) + 4, POLLIN, true);
    v.setInt16(entry(0) + 6, 0, true);
    for (let i = 0; i < n; i++) {
      v.setInt32(entry(i + 1), fds[i].fd, true);
      v.setInt16(entry(i + 1) + 4, fds[i].events, true);
      v.setInt16(entry(i + 1) + 6, 0, true);
    }
    let timeout = 0;
    if (timeoutMs !== Infinity) {
      const ns = Math.max(0, Math.round(timeoutMs * 1e6));
      v.setBigInt64(0, BigInt(Math.floor(ns / 1e9)), true);
      v.setBigInt64(8, BigInt(ns % 1e9), true);
      timeout = this.address;
    }
    const r = hostSyscall(HOST_PPOLL, this.address + 16, n + 1, timeout, 0, 8);
    const ready = fds.map((_, i) => r > 0 && i < n && v.getInt16(entry(i + 1) + 6, true) !== 0);
    if (r > 0 && v.getInt16(entry(0) + 6, true) !== 0) hostSyscall(HOST_READ, this.doorbellFd, this.address, 8);
    return ready;
  }
}
