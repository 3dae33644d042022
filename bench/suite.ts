// `npm run bench` and `starling bench [--only NAME] [--quick] [--out DIR]`: every case under
// every runner, the raw results as JSON, the report with its charts, and (for a full run)
// the generated part of docs/PERFORMANCE.md.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BenchError, type Case } from './case.js';
import { microCases } from './cases/micro.js';
import { networkCases } from './cases/network.js';
import { macroCases } from './cases/macro.js';
import { mediaServerCases } from './cases/mediaserver.js';
import { scalingCases } from './cases/scaling.js';
import { updatePerformanceDoc } from './docs.js';
import { finishHostFacts, hostFacts } from './host.js';
import { RESULTS } from './paths.js';
import { writeReport } from './report.js';
import { scalingCurves, SCHEMA, summarize, type CaseResult, type Outcome, type Results } from './results.js';
import { detectRunners, type Runner } from './runners.js';
import { Workspace } from './workspace.js';

export const BENCH_HELP = `Usage: starling bench [--only NAME] [--quick] [--out DIR]

Runs the benchmark suite: every case natively, under qemu-x86_64 and under Starling with each
CPU backend that works here, 5 repetitions each (median, min, max). Writes DIR/latest.json,
DIR/latest.md and SVG charts; a full run also regenerates the table in docs/PERFORMANCE.md.

Options:
  --only NAME   run only the cases whose name or group (micro, network, macro, mediaserver,
                scaling) contains NAME (case-insensitive; repeatable)
  --quick       one repetition of tiny sizes (checks that every case works, not for figures)
  --out DIR     where to write (default bench/results; bench/results/quick with --quick,
                bench/results/only with --only)

MediaServer cases need STARLING_ZLM_DIR (a ZLMediaKit release folder with MediaServer).`;

export class BenchUsageError extends Error {}

interface Options { only: string[]; quick: boolean; out: string | null }

export function parseBenchArgs(argv: string[]): Options | 'help' {
  const o: Options = { only: [], quick: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--quick') o.quick = true;
    else if (a === '--only' || a === '--out') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${a} needs a value`);
      if (a === '--only') o.only.push(v.toLowerCase());
      else o.out = resolve(v);
    } else throw new BenchUsageError(`unknown option '${a}' (see starling bench --help)`);
  }
  return o;
}

const FULL_REPETITIONS = 5;

export async function runBench(argv: string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options === 'help') {
    process.stdout.write(BENCH_HELP + '\n');
    return 0;
  }
  const started = Date.now();
  const host = hostFacts();
  const repetitions = options.quick ? 1 : FULL_REPETITIONS;
  const all = [...microCases(), ...networkCases(), ...macroCases(), ...mediaServerCases(), ...scalingCases()];
  const cases = options.only.length ? all.filter((c) => options.only.some((o) => c.name.toLowerCase().includes(o) || c.group === o)) : all;
  if (!cases.length) throw new BenchUsageError(`no case matches --only ${options.only.join(', ')}`);
  const outDir = options.out ?? (options.quick ? join(RESULTS, 'quick') : options.only.length ? join(RESULTS, 'only') : RESULTS);
  mkdirSync(outDir, { recursive: true });

  const runners = detectRunners();
  for (const r of runners.filter((r) => !r.available)) process.stderr.write(`bench: ${r.label} unavailable: ${r.reason}\n`);
  const ws = new Workspace(options.quick);
  const results: CaseResult[] = [];
  try {
    const usable = runners.filter((r) => r.available);
    const steps = cases.filter((c) => !c.skip).length * usable.length;
    let step = 0;
    for (const c of cases) {
      const result: CaseResult = { name: c.name, group: c.group, unit: c.unit, lowerIsBetter: c.lowerIsBetter, method: c.method, scaling: c.scaling, figures: {} };
      results.push(result);
      if (c.skip) {
        result.skipped = c.skip;
        process.stderr.write(`bench: SKIP ${c.name}: ${c.skip}\n`);
        continue;
      }
      for (const r of usable) {
        step++;
        process.stderr.write(`bench: [${step}/${steps}] ${c.name} under ${r.label} (${steps - step} remaining)\n`);
        result.figures[r.id] = await measure(c, r, ws, repetitions);
      }
    }
  } finally {
    ws.remove();
  }
  finishHostFacts(host);
  const info = runners.map(({ id, label, available, reason }) => ({ id, label, available, ...(reason ? { reason } : {}) }));
  const res: Results = {
    schema: SCHEMA, host,
    invocation: { quick: options.quick, only: options.only.length ? options.only.join(',') : null, repetitions, durationSeconds: Math.round((Date.now() - started) / 1000) },
    runners: info, cases: results, scaling: scalingCurves(results, info),
  };
  const chartNames = writeReport(res, outDir, 'latest');
  process.stderr.write(`bench: wrote ${join(outDir, 'latest.json')}, latest.md and ${chartNames.length} charts\n`);
  if (!options.quick && !options.only.length && !options.out) {
    updatePerformanceDoc(res, chartNames);
    process.stderr.write('bench: regenerated the results table of docs/PERFORMANCE.md\n');
  }
  const failed = results.flatMap((c) => Object.entries(c.figures).filter(([, o]) => 'error' in o).map(([r, o]) => `${c.name} under ${r}: ${(o as { error: string }).error}`));
  for (const f of failed) process.stderr.write(`bench: failed: ${f}\n`);
  return failed.length ? 1 : 0;
}

async function measure(c: Case, r: Runner, ws: Workspace, repetitions: number): Promise<Outcome> {
  const runs: number[] = [];
  try {
    for (let i = 0; i < repetitions; i++) {
      const v = await c.measure(r, ws);
      if (!Number.isFinite(v)) throw new BenchError(`not a number: ${v}`);
      runs.push(v);
    }
  } catch (e) {
    // One failing case must not end a run of an hour: its figure records the failure instead.
    return { error: e instanceof BenchError ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
  return summarize(runs);
}
