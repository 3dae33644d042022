// Facts about the host that a reader needs to judge the figures: cores, CPU model, kernel, and
// whether something else was running when the bench started.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';

export interface HostFacts {
  cores: number;
  cpuModel: string;
  kernel: string;
  node: string;
  date: string;
  /** 1, 5 and 15 minute load averages just before the first case ran. */
  loadavgBefore: number[];
  /** The same after the last case (the bench's own load included). */
  loadavgAfter: number[];
  /** True when the 1-minute load average before the run was 0.5 or more: other work was running. */
  otherLoad: boolean;
}

/** The threshold above which the host was not idle when the bench started. */
const BUSY_LOAD = 0.5;

export function hostFacts(): HostFacts {
  const before = loadavg();
  return {
    cores: cpus().length,
    cpuModel: cpuModel(),
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    loadavgBefore: before.map(round2),
    loadavgAfter: before.map(round2),
    otherLoad: before[0] >= BUSY_LOAD,
  };
}

export function finishHostFacts(h: HostFacts): void {
  h.loadavgAfter = loadavg().map(round2);
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1].trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
