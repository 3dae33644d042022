// What a bench case is, and what it is given to run one repetition under one runner.
import type { Runner } from './runners.js';
import type { Workspace } from './workspace.js';

export type Group = 'micro' | 'network' | 'macro' | 'scaling' | 'mediaserver';

export interface Case {
  /** Unique; `--only` matches a part of it (or of the group's name). */
  name: string;
  group: Group;
  unit: string;
  lowerIsBetter: boolean;
  /** How the figure is taken, one sentence for the report. */
  method: string;
  /** Why the case cannot run in this invocation (printed as a visible SKIP line). */
  skip?: string;
  /** For the scaling curves: which parallel workload, with how many workers (Starling's --cpus). */
  scaling?: { workload: 'processes' | 'threads'; workers: number };
  /** One repetition under runner: the figure, or a thrown BenchError. */
  measure(runner: Runner, ws: Workspace): Promise<number>;
}

/** A repetition that did not produce a figure; its message is one line for the report. */
export class BenchError extends Error {}
