// `starling run --exit-stats`: the KVM exit profile (shared-mem/kvm-exits.ts) as a table on
// stderr when the machine ends, one block per vCPU that ran guest code.
import { readExits, readMailboxCalls } from '../shared-mem/kvm-exits.js';

const ms = (x: number) => x.toFixed(1).padStart(10);

export function formatExitStats(exits: SharedArrayBuffer, cpus: number): string {
  const lines = ['starling: KVM exits (run: time inside KVM_RUN that ended so; host: the worker\'s handling after it)'];
  lines.push(`${'vCPU'.padEnd(5)}${'cause'.padEnd(13)}${'exits'.padStart(10)}${'run ms'.padStart(10)}${'host ms'.padStart(10)}${'host us/exit'.padStart(14)}`);
  for (let cpu = 0; cpu < cpus; cpu++) {
    const rows = readExits(exits, cpu);
    if (rows.every((r) => r.count === 0)) continue;
    const total = { cause: 'all', count: 0, runMs: 0, hostMs: 0 };
    for (const r of rows) {
      total.count += r.count;
      total.runMs += r.runMs;
      total.hostMs += r.hostMs;
    }
    for (const r of [...rows.filter((x) => x.count > 0), total]) {
      const perExit = r.count ? ((r.hostMs * 1000) / r.count).toFixed(1) : '-';
      lines.push(`${String(cpu).padEnd(5)}${r.cause.padEnd(13)}${String(r.count).padStart(10)}${ms(r.runMs)}${ms(r.hostMs)}${perExit.padStart(14)}`);
    }
    const inPlace = readMailboxCalls(exits, cpu);
    if (inPlace > 0) lines.push(`${String(cpu).padEnd(5)}syscalls served in place, without an exit (the mailbox): ${inPlace}`);
  }
  return lines.join('\n') + '\n';
}
