// Linux's default real-time throttling (sched_rt_runtime_us 950000 of sched_rt_period_us
// 1000000): real-time threads get at most 95% of a CPU per second while normal threads wait,
// so a spinning SCHED_FIFO thread cannot freeze the machine.
const PERIOD_MS = 1000;
const RUNTIME_MS = 950;

export class RtThrottle {
  private periodStart = 0;
  private used = 0;

  /** Accounts ms of real-time running ending at now. */
  charge(ms: number, now: number): void {
    this.roll(now);
    this.used += ms;
  }

  /** Whether real-time threads must leave the CPU to normal ones for the rest of the period. */
  throttled(now: number): boolean {
    this.roll(now);
    return this.used >= RUNTIME_MS;
  }

  private roll(now: number): void {
    if (now - this.periodStart >= PERIOD_MS) {
      this.periodStart = now;
      this.used = 0;
    }
  }
}
