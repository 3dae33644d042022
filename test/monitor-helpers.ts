// Shared by the monitor tests: a machine running test/guest-extra/monitored.c in the
// background, reached by its name, and stopped at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, native } from './helpers.js';
import { listMachines } from '../src/main/monitor/runtime-dir.js';

export const EXTRA = join(ROOT, 'test', 'guest-extra');

/** Builds monitored.c into dir/bin (bound read-only at /extra in the guest). */
export function buildMonitored(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const cc = native('gcc', ['-O1', '-Wall', '-pthread', '-o', join(bin, 'monitored'), join(EXTRA, 'monitored.c')]);
  if (cc.status !== 0) throw new Error(`monitored.c does not build: ${cc.stderr}`);
  return bin;
}

export interface RunningMachine {
  name: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with starling's exit status. */
  exited: Promise<number | null>;
}

/** Asks cond every 20 ms until it holds (at most tries times); resolves with its last answer. */
export async function waitFor(cond: () => boolean, tries = 1000): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return cond();
}

/**
 * Starts `starling run --name NAME ARGS...` and resolves once its stdout has printed ready and
 * it is registered (the endpoint starts while the machine boots, so either may come first).
 */
export function startMachine(name: string, args: string[]): Promise<RunningMachine> {
  const child = spawn(process.execPath, [CLI, 'run', '--name', name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!/^ready$/m.test(out)) return;
      void waitFor(() => listMachines().some((m) => m.name === name)).then(() => resolve({ name, child, stdout: () => out, stderr: () => err, exited }));
    });
    void exited.then((code) => reject(new Error(`machine ${name} exited (${code}) before ready: ${err.slice(0, 500)}`)));
  });
}
