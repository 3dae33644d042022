// The machine's event log: one JSON object per line (JSONL), appended as vCPU 0 reports
// events (kernel/events.ts) and as the machine starts and stops. Events are rare (process
// starts and exits, refused connections), so each is written at once.
import { closeSync, openSync, writeSync } from 'node:fs';

export class EventLog {
  private fd: number | null;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o600);
  }

  write(event: { time?: string; event: string } & Record<string, unknown>): void {
    if (this.fd === null) return;
    writeSync(this.fd, JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
