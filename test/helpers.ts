// Shared by the test files: where things are, and how to run a guest.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist', 'src', 'main', 'cli.js');
export const ROOTFS = join(ROOT, 'rootfs', 'build');
export const GUEST_SRC = join(ROOT, 'test', 'guest');

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** A process killed by signal N counts as exit status 128+N, as shells (and starling) report it. */
function result(r: SpawnSyncReturns<string>): RunResult {
  const signal = r.signal ? constants.signals[r.signal] : undefined;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? (signal !== undefined ? 128 + signal : null) };
}

/**
 * The CPU backend every `starling run` of the tests uses: STARLING_ACCEL (run-tests.ts runs the
 * suite once with unicorn and again with kvm where /dev/kvm works), else starling's default.
 */
export const ACCEL = process.env.STARLING_ACCEL || null;

/** `starling` arguments with the suite's --accel added to a `run`. */
export function cliArgs(args: string[]): string[] {
  return ACCEL && args[0] === 'run' && args[1] !== '--help' ? ['run', '--accel', ACCEL, ...args.slice(1)] : args;
}

/** Runs `starling ARGS...` and captures its output. */
export function starling(args: string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
  return result(spawnSync(process.execPath, [CLI, ...cliArgs(args)], {
    encoding: 'utf8', input: options.input ?? '', timeout: options.timeoutMs ?? 120_000,
  }));
}

/** Runs a host command natively. */
export function native(cmd: string, args: string[], options: { cwd?: string; input?: string } = {}): RunResult {
  return result(spawnSync(cmd, args, { encoding: 'utf8', cwd: options.cwd, input: options.input ?? '', timeout: 120_000 }));
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `starling-${prefix}-`));
}

export const haveMusl = existsSync('/usr/bin/musl-gcc');
