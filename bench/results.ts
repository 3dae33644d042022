// The raw results of one invocation (bench/results/*.json), and the figures derived from them.
// Ratios and speed-ups are only ever taken between figures of the same Results.
import type { Case, Group } from './case.js';
import type { HostFacts } from './host.js';

export const SCHEMA = 'starling-bench/1';

/** Median, min and max of the repetitions (each figure is the median of at least 5 in a full run). */
export interface Figure { median: number; min: number; max: number; runs: number[] }
export type Outcome = Figure | { error: string };

export interface RunnerInfo { id: string; label: string; available: boolean; reason?: string }

export interface CaseResult {
  name: string;
  group: Group;
  unit: string;
  lowerIsBetter: boolean;
  method: string;
  scaling?: Case['scaling'];
  /** Set when the case did not run; figures is then empty. */
  skipped?: string;
  /** One entry per available runner. */
  figures: Record<string, Outcome>;
}

export interface ScalingPoint { workers: number; ms: number; speedup: number; efficiency: number }
export interface ScalingCurve { workload: 'processes' | 'threads'; runner: string; points: ScalingPoint[] }

export interface Results {
  schema: typeof SCHEMA;
  host: HostFacts;
  invocation: { quick: boolean; only: string | null; repetitions: number; durationSeconds: number };
  runners: RunnerInfo[];
  cases: CaseResult[];
  scaling: ScalingCurve[];
}

export function summarize(runs: number[]): Figure {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs };
}

export const isFigure = (o: Outcome | undefined): o is Figure => o !== undefined && !('error' in o);

/** How many times slower (or, for higher-is-better units, less) runner's figure is than native's. */
export function slowdown(c: CaseResult, runner: string): number | null {
  const f = c.figures[runner], base = c.figures.native;
  if (!isFigure(f) || !isFigure(base) || f.median === 0 || base.median === 0) return null;
  return c.lowerIsBetter ? f.median / base.median : base.median / f.median;
}

/** Speed-up T(1)/T(N) and efficiency speed-up/N per workload and runner, from the scaling cases. */
export function scalingCurves(cases: CaseResult[], runners: RunnerInfo[]): ScalingCurve[] {
  const curves: ScalingCurve[] = [];
  for (const workload of ['processes', 'threads'] as const) {
    const points = cases.filter((c) => c.scaling?.workload === workload).sort((a, b) => a.scaling!.workers - b.scaling!.workers);
    for (const r of runners.filter((r) => r.available)) {
      const one = points.find((c) => c.scaling!.workers === 1)?.figures[r.id];
      if (!isFigure(one)) continue;
      const curve = points.flatMap((c) => {
        const f = c.figures[r.id];
        if (!isFigure(f)) return [];
        const speedup = one.median / f.median, workers = c.scaling!.workers;
        return [{ workers, ms: f.median, speedup, efficiency: speedup / workers }];
      });
      curves.push({ workload, runner: r.id, points: curve });
    }
  }
  return curves;
}
