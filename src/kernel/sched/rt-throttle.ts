// Linux's default real-time throttling (sched_rt_runtime_us 950000 of sched_rt_period_us
// 1000000): real-time threads get at most 95% of a CPU per second while normal threads wait,
// so a spinning SCHED_FIFO thread cannot freeze the machine.
const PERIOD_MS = 1000;
const RUNTIME_MS = 950;

export class RtThrottle {
  /** Start of the current period; periods follow each other without gaps, as Linux's timer does. */
  private periodStart = 0;
  private used = 0;

  /** Accounts real-time running from `from` to now (ms): only the part inside the current period counts. */
  charge(from: number, now: number): void {
    this.roll(now);
    this.used += now - Math.max(from, this.periodStart);
  }

  /** Whether real-time threads must leave the CPU to normal ones for the rest of the period. */
  throttled(now: number): boolean {
    this.roll(now);
    return this.used >= RUNTIME_MS;
  }

  private roll(now: number): void {
    if (now - this.periodStart < PERIOD_MS) return;
    this.periodStart += Math.floor((now - this.periodStart) / PERIOD_MS) * PERIOD_MS;
    this.used = 0;
  }
}
