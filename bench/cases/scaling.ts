// Scaling cases: a fixed amount of register-bound work split over N workers, N = 1, 2, 4, 8:
// N independent processes, and N threads of one process. Starling runs with --cpus N; native
// and qemu-x86_64 runs have the host's cores. Speed-up and efficiency are computed from these
// figures in the report (report.ts).
import type { Case } from '../case.js';
import { printedFigure } from './kinds.js';

export const SCALING_WORKERS = [1, 2, 4, 8];
const WORKLOADS = [
  { workload: 'processes' as const, program: '/bench/compute_procs', label: 'independent processes' },
  { workload: 'threads' as const, program: '/bench/compute_threads', label: 'threads of one process' },
];

export function scalingCases(): Case[] {
  return WORKLOADS.flatMap(({ workload, program, label }) => SCALING_WORKERS.map((n): Case => ({
    name: `${n} compute ${label}, Starling --cpus ${n}`, group: 'scaling', unit: 'ms', lowerIsBetter: true,
    method: 'timed by the guest from the first fork or pthread_create to the last wait or join; the work is fixed, so more workers should take less time',
    scaling: { workload, workers: n },
    measure: printedFigure((ws) => ({ argv: [program, String(n), ws.size('1000000000', '10000000')], cpus: n })),
  })));
}
