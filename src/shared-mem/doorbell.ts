import { Control } from './layout.js';

/** Per-vCPU doorbells: an idle vCPU sleeps on its word; ringing bumps it and notifies. */
export class Doorbells {
  constructor(private readonly control: Int32Array) {}

  ring(cpu: number): void {
    Atomics.add(this.control, Control.DOORBELL_BASE + cpu, 1);
    Atomics.notify(this.control, Control.DOORBELL_BASE + cpu);
  }

  ringAll(cpus: number): void {
    for (let cpu = 0; cpu < cpus; cpu++) this.ring(cpu);
  }

  /** The value to pass to wait(): read it before checking for work, so no ring is lost. */
  ticket(cpu: number): number {
    return Atomics.load(this.control, Control.DOORBELL_BASE + cpu);
  }

  /** Sleeps until the doorbell changes from ticket or timeoutMs passes (Infinity: forever). */
  wait(cpu: number, ticket: number, timeoutMs: number): void {
    Atomics.wait(this.control, Control.DOORBELL_BASE + cpu, ticket, timeoutMs);
  }
}
