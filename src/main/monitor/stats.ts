// Rates from two kernel snapshots: per-vCPU utilisation, syscalls, switches and traps per
// second, per-thread CPU share, syscalls per second by name.
import type { KernelSnapshot } from '../../cpu-worker/monitor-agent.js';
import type { Stats } from './protocol.js';

/** Rates of now over the time since before (null: since boot, all counters from zero). */
export function statsBetween(before: KernelSnapshot | null, now: KernelSnapshot, bootAt: number): Stats {
  const since = before?.at ?? bootAt;
  const intervalMs = Math.max(now.at - since, 1e-3);
  const perSec = (delta: number) => (delta * 1000) / intervalMs;
  const cpus = now.cpus.map((c, i) => {
    const b = before?.cpus[i];
    return {
      ...c,
      utilisation: Math.min(1, Math.max(0, (c.busyMs - (b?.busyMs ?? 0)) / intervalMs)),
      syscallsPerSec: perSec(c.syscalls - (b?.syscalls ?? 0)),
      switchesPerSec: perSec(c.switches - (b?.switches ?? 0)),
      trapsPerSec: perSec(c.traps - (b?.traps ?? 0)),
    };
  });
  const syscalls = Object.entries(now.syscalls)
    .map(([name, count]) => ({ name, count, perSec: perSec(count - (before?.syscalls[name] ?? 0)) }))
    .sort((a, b) => b.perSec - a.perSec || b.count - a.count);
  const threadMs = new Map<number, number>();
  for (const p of before?.processes ?? []) for (const t of p.threads) threadMs.set(t.tid, t.cpuMs);
  const processes = now.processes.map((p) => ({
    ...p,
    threads: p.threads.map((t) => ({ ...t, cpuPercent: Math.max(0, (100 * (t.cpuMs - (threadMs.get(t.tid) ?? 0))) / intervalMs) })),
  }));
  return { intervalMs, uptimeMs: now.at - bootAt, cpus, syscalls, processes };
}
