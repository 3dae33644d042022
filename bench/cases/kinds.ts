// The three ways most cases take their figure from one guest command.
import type { Runner, GuestCommand } from '../runners.js';
import type { Workspace } from '../workspace.js';
import { BenchError } from '../case.js';
import { figureOf, mustSucceed, runToEnd } from '../proc.js';

type Measure = (runner: Runner, ws: Workspace) => Promise<number>;
type CommandOf = (ws: Workspace) => GuestCommand;

/** Runs the guest command under runner to its end; it must exit 0. */
async function runGuest(runner: Runner, ws: Workspace, g: GuestCommand, wrap: (cmd: string[]) => string[] = (cmd) => cmd) {
  return mustSucceed(g.argv[0], await runToEnd(wrap(ws.command(runner, g))));
}

/** The number the guest program prints (it times its own loop, so start-up is excluded). */
export const printedFigure = (g: CommandOf): Measure => async (runner, ws) => figureOf((await runGuest(runner, ws, g(ws))).stdout);

/** Wall time of the whole command in ms, start-up included. */
export const wallTime = (g: CommandOf): Measure => async (runner, ws) => (await runGuest(runner, ws, g(ws))).ms;

/** Host CPU (user+system of the command and its children, bash's time) as % of its wall time. */
export const cpuShare = (g: CommandOf): Measure => async (runner, ws) => {
  const r = await runGuest(runner, ws, g(ws), (cmd) => ['bash', '-c', 'TIMEFORMAT="cpu %U %S"; { time "$@" >/dev/null 2>&1; } 2>&1', '_', ...cmd]);
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stdout);
  if (!m) throw new BenchError('bash reported no CPU time');
  return ((Number(m[1]) + Number(m[2])) * 1000 / r.ms) * 100;
};
