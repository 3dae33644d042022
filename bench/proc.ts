// Host processes for the bench: run to the end with captured output, read a figure, read a
// process's CPU time from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { BenchError } from './case.js';

export interface Finished { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

/** Runs cmd to its end (killed after timeoutMs); wall time in ms from spawn to exit. */
export function runToEnd(cmd: string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (e) => { clearTimeout(timer); reject(new BenchError(`${cmd[0]}: ${e.message}`)); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - start) / 1e6 });
    });
  });
}

/** Throws unless the process exited 0; the message names the first line of its stderr. */
export function mustSucceed(what: string, r: Finished): Finished {
  if (r.status === 0) return r;
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  throw new BenchError(`${what}: ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
}

/** The first number of stdout (the guest programs print "12.3 unit"), or of its "result X" line. */
export function figureOf(stdout: string): number {
  const m = /^result ([\d.]+)/m.exec(stdout) ?? /^([\d.]+)/m.exec(stdout);
  if (!m) throw new BenchError(`no figure in the output: ${stdout.trim().slice(0, 120) || '(empty)'}`);
  return Number(m[1]);
}

/** user+system CPU seconds of a live process, all its threads (fields 14 and 15 of /proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    throw new BenchError(`process ${pid} ended before its CPU time was read`);
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux x86-64 build (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/**
 * Starts metering a live process: the function returned gives its user+system time since now
 * as a share of the wall time since now, in % of a core (the process must still be alive).
 */
export function cpuShareSince(pid: number): () => number {
  const cpu0 = cpuSeconds(pid), t0 = performance.now();
  return () => ((cpuSeconds(pid) - cpu0) * 1000 / (performance.now() - t0)) * 100;
}

/** A started process whose stdout is watched line by line. */
export interface Started { child: ChildProcess; exited: Promise<Finished>; stdout(): string; stderr(): string }

export function start(cmd: string[], options: { cwd?: string } = {}): Started {
  const startAt = process.hrtime.bigint();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<Finished>((resolve) => {
    child.on('error', (e) => { stderr += e.message; });
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - startAt) / 1e6 }));
  });
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Waits until a started process prints a line matching re (or ends, or timeoutMs passes). */
export async function waitForLine(p: Started, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  let ended = false;
  void p.exited.then(() => (ended = true));
  for (const end = Date.now() + timeoutMs; ; ) {
    const m = re.exec(p.stdout());
    if (m) return m;
    if (ended) throw new BenchError(`ended before printing ${re.source}: ${p.stderr().trim().split('\n')[0] ?? ''}`);
    if (Date.now() > end) throw new BenchError(`no ${re.source} within ${timeoutMs / 1000} s`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a TCP socket listens on port (any address), from /proc/net/tcp and tcp6: no connection is made. */
export function listening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => {
    try {
      // Lines: "sl local_address rem_address st ..."; state 0A is LISTEN.
      return readFileSync(f, 'latin1').split('\n').some((l) => { const c = l.trim().split(/\s+/); return c[1]?.endsWith(hex.trim()) && c[3] === '0A'; });
    } catch {
      return false;
    }
  });
}

/** A TCP port nobody listens on now (the host picks it; it is free again when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
