// The three ways most cases take their figure from one guest command.
import type { Runner, GuestCommand } from '../runners.js';
import type { Workspace } from '../workspace.js';
import { cpuShareSince, figureOf, mustSucceed, runToEnd, start, waitForLine } from '../proc.js';

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

/** How long the guest may take to reach its begin and end lines. */
const PHASE_TIMEOUT_MS = 120_000;

/**
 * Host CPU (user+system, all threads) of the runner's process between the guest's `begin` and
 * `end` lines, as % of the wall time between them: the steady state, without start-up and exit
 * (which would otherwise dominate a 2 s idle figure). The guest stays alive a moment after `end`.
 */
export const cpuShare = (g: CommandOf): Measure => async (runner, ws) => {
  const command = g(ws);
  const p = start(ws.command(runner, command));
  try {
    await waitForLine(p, /^begin$/m, PHASE_TIMEOUT_MS);
    const share = cpuShareSince(p.child.pid!);
    await waitForLine(p, /^end$/m, PHASE_TIMEOUT_MS);
    const percent = share();
    mustSucceed(command.argv[0], await p.exited);
    return percent;
  } finally {
    p.child.kill('SIGKILL');
  }
};
