// The monitor's CLI clients: starling ps, top, cp, kill and stop. Each talks to a running
// machine over its endpoint (main/monitor/client.ts); errors are one line.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, statSync, symlinkSync, chmodSync, writeSync } from 'node:fs';
import { basename, join, normalize, posix } from 'node:path';
import { MonitorClient, MonitorError } from './monitor/client.js';
import { listMachines, NAME_PATTERN, RuntimeDirError } from './monitor/runtime-dir.js';
import { signalNumber } from './monitor/protocol.js';
import type { CopyEntry, ProcessView, Stats } from './monitor/protocol.js';
import { UsageError } from './options.js';
import { connectTerminal, terminalSize } from './console/terminal.js';
import type { WindowSize } from './console/host-pty.js';

/** A failure of a monitor command: printed as one line, exit status 1. */
export class CommandError extends Error {}

export async function monitorCommand(command: string, args: string[]): Promise<number> {
  try {
    switch (command) {
      case 'ps': return await ps(args);
      case 'top': return await top(args);
      case 'cp': return await cp(args);
      case 'kill': return await kill(args);
      case 'stop': return await stop(args);
      case 'console': return await attachConsole(args);
      default: throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof MonitorError || e instanceof RuntimeDirError || e instanceof CommandError) {
      process.stderr.write(`starling: ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** The machine a command names, or the only one running. */
function machineArg(name: string | undefined): string {
  if (name !== undefined) return name;
  const running = listMachines();
  if (running.length === 1) return running[0].name;
  throw new CommandError(running.length ? 'several machines are running: name one (see starling ps)' : 'no machine is running');
}

async function withClient<T>(name: string, fn: (c: MonitorClient) => Promise<T>): Promise<T> {
  const client = await MonitorClient.connect(name);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function table(header: string[], rows: Array<Array<string | number>>, rightAligned: Set<number>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** 0-3,6: a CPU list as taskset and /proc print it. */
export function cpuList(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return parts.join(',');
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

function threadTable(processes: ProcessView[], withPercent: boolean): string {
  const rows: Array<Array<string | number>> = [];
  for (const p of processes) {
    if (p.state === 'zombie') rows.push([p.pid, '-', p.comm, 'zombie', '-', '-', '-', '-', '-', '-', ...(withPercent ? ['-'] : []), '-', '-']);
    for (const t of p.threads) {
      rows.push([p.pid, t.tid, t.comm, p.state === 'stopped' ? 'stopped' : t.state, t.policy.replace('SCHED_', ''), t.priority, t.nice,
        cpuList(t.affinity), t.cpu ?? '-', t.lastCpu, ...(withPercent ? [t.cpuPercent.toFixed(1)] : []), seconds(t.cpuMs), t.syscalls]);
    }
  }
  const header = ['PID', 'TID', 'COMM', 'STATE', 'POLICY', 'PRIO', 'NICE', 'AFFINITY', 'CPU', 'LAST', ...(withPercent ? ['%CPU'] : []), 'TIME', 'SYSCALLS'];
  const right = new Set([0, 1, 5, 6, 8, 9, 10, 11, 12]);
  return table(header, rows, right);
}

async function ps(args: string[]): Promise<number> {
  if (args.length > 1) throw new UsageError('usage: starling ps [MACHINE]');
  if (args.length === 0) {
    const now = Date.now();
    const rows = listMachines().map((m) => [m.name, m.pid, m.cpus, `${Math.round((now - m.startedAt) / 1000)}s`, `127.0.0.1:${m.port}`, m.program]);
    process.stdout.write(table(['NAME', 'PID', 'CPUS', 'UP', 'MONITOR', 'PROGRAM'], rows, new Set([1, 2, 3])));
    return 0;
  }
  const reply = await withClient(args[0], (c) => c.request<{ processes: ProcessView[] }>({ type: 'processes' }));
  process.stdout.write(threadTable(reply.processes, false));
  return 0;
}

function topScreen(name: string, s: Stats): string {
  const bar = (u: number) => '#'.repeat(Math.round(u * 20)).padEnd(20, '.');
  const lines = [`starling top - ${name}, up ${Math.round(s.uptimeMs / 1000)} s, ${s.processes.length} processes`];
  for (const c of s.cpus) {
    lines.push(`vCPU ${String(c.cpu).padStart(2)} [${bar(c.utilisation)}] ${(100 * c.utilisation).toFixed(0).padStart(3)}%  `
      + `${c.syscallsPerSec.toFixed(0).padStart(7)} syscalls/s ${c.switchesPerSec.toFixed(0).padStart(6)} switches/s ${c.trapsPerSec.toFixed(0).padStart(6)} traps/s`);
  }
  const busiest = s.syscalls.filter((x) => x.perSec > 0).slice(0, 5).map((x) => `${x.name} ${x.perSec.toFixed(0)}/s`);
  lines.push(`syscalls: ${busiest.join(', ') || 'none in the last interval'}`, '');
  const sorted = [...s.processes].map((p) => ({ ...p, threads: [...p.threads].sort((a, b) => b.cpuPercent - a.cpuPercent) }));
  return lines.join('\n') + '\n' + threadTable(sorted, true);
}

async function top(args: string[]): Promise<number> {
  let screens = Infinity;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-n') {
      screens = Number(args[++i]);
      if (!Number.isInteger(screens) || screens < 1) throw new UsageError(`top: -n: '${args[i]}' is not a positive number`);
    } else rest.push(args[i]);
  }
  if (rest.length > 1) throw new UsageError('usage: starling top [-n N] [MACHINE]');
  const name = machineArg(rest[0]);
  const client = await MonitorClient.connect(name);
  const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
  let shown = 0;
  await new Promise<void>((resolve, reject) => {
    client.request({ type: 'subscribe', intervalMs: 1000 }, {
      onStream: (m) => {
        if (!('type' in m) || m.type !== 'update') return;
        process.stdout.write(clear + topScreen(name, m as unknown as Stats) + (clear ? '' : '\n'));
        if (++shown >= screens) resolve();
      },
    }).catch(reject);
    client.untilClosed().then(() => (shown >= screens ? resolve() : reject(new MonitorError(`machine ${name} stopped`))));
    process.once('SIGINT', () => resolve());
  }).finally(() => client.close());
  return 0;
}

async function kill(args: string[]): Promise<number> {
  let signal: string = 'TERM';
  const rest = [...args];
  if (rest[0] === '-s') {
    signal = rest[1] ?? '';
    rest.splice(0, 2);
  } else if (rest[0]?.startsWith('-')) {
    signal = rest.shift()!.slice(1);
  }
  if (rest.length !== 2) throw new UsageError('usage: starling kill [-SIG] MACHINE PID');
  if (signalNumber(signal) === null) throw new UsageError(`kill: unknown signal: ${signal}`);
  const pid = Number(rest[1]);
  if (!/^\d+$/.test(rest[1]) || pid < 1) throw new UsageError(`kill: '${rest[1]}' is not a pid`);
  await withClient(rest[0], (c) => c.request({ type: 'signal', pid, signal }).catch((e: Error) => {
    throw new CommandError(/No such process/.test(e.message) ? `no such process: ${pid} in ${rest[0]}` : e.message);
  }));
  return 0;
}

async function stop(args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError('usage: starling stop MACHINE');
  const client = await MonitorClient.connect(args[0]);
  await client.request({ type: 'stop' });
  // The machine closes the connection when it exits (after at most the grace period).
  await client.untilClosed();
  return 0;
}

/** starling console [MACHINE]: this terminal on the machine's console until Ctrl-] or the machine's end. */
async function attachConsole(args: string[]): Promise<number> {
  if (args.length > 1) throw new UsageError('usage: starling console [MACHINE]');
  const name = machineArg(args[0]);
  return withClient(name, async (client) => {
    const { id, reply } = client.begin({ type: 'console' }, { onBinary: (bytes) => void process.stdout.write(bytes) });
    await reply;
    if (process.stderr.isTTY) process.stderr.write(`starling: attached to the console of ${name} (Ctrl-] detaches)\r\n`);
    const resize = (size: WindowSize) => void client.request({ type: 'console-resize', ...size }).catch(() => {});
    if (process.stdout.isTTY) resize(terminalSize());
    let disconnect = () => {};
    const why = await new Promise<string>((resolve) => {
      disconnect = connectTerminal({
        input: (bytes) => void client.sendBinary(id, bytes).catch(() => {}),
        resize,
        detach: () => resolve(`detached from ${name}`),
      });
      void client.untilClosed().then(() => resolve(`machine ${name} stopped`));
    });
    disconnect();
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}starling: console: ${why}\n`);
    return 0;
  });
}

// ---- cp ----

/** A host file system error (it has a code) as one line naming the host path. */
function hostFailure(e: unknown, hostPath: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string') return e;
  const reason = err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return new CommandError(`${err.path ?? hostPath}: ${reason.charAt(0).toUpperCase()}${reason.slice(1)}`);
}

/** MACHINE:/path, or null for a host path. */
function guestSpec(arg: string): { machine: string; path: string } | null {
  const colon = arg.indexOf(':');
  if (colon <= 0) return null;
  const machine = arg.slice(0, colon), path = arg.slice(colon + 1);
  if (!NAME_PATTERN.test(machine)) return null;
  if (!path.startsWith('/')) throw new UsageError(`cp: ${arg}: the guest path must be absolute`);
  return { machine, path };
}

async function cp(args: string[]): Promise<number> {
  if (args.length !== 2) throw new UsageError('usage: starling cp MACHINE:/PATH HOSTPATH | starling cp HOSTPATH MACHINE:/PATH');
  const [from, to] = args.map(guestSpec);
  if (from && !to) return copyFromGuest(from.machine, from.path, args[1]);
  if (to && !from) return copyToGuest(args[0], to.machine, to.path);
  throw new UsageError('cp: exactly one of the two paths must be MACHINE:/PATH');
}

/** A relative path received from a machine, checked to stay inside the copy. */
function inside(root: string, rel: string): string {
  if (!rel) return root;
  const p = normalize(rel);
  if (p.startsWith('/') || p === '..' || p.startsWith('../')) throw new CommandError(`the machine sent a bad path: ${rel}`);
  return join(root, p);
}

async function copyFromGuest(machine: string, guestPath: string, hostPath: string): Promise<number> {
  const root = existsSync(hostPath) && statSync(hostPath).isDirectory() ? join(hostPath, posix.basename(guestPath) || 'root') : hostPath;
  let fd: number | null = null;
  const closeFile = () => {
    if (fd !== null) closeSync(fd);
    fd = null;
  };
  const apply = (e: CopyEntry) => {
    closeFile();
    const target = inside(root, e.path);
    switch (e.kind) {
      case 'file':
        fd = openSync(target, 'w', e.mode);
        chmodSync(target, e.mode);
        return;
      case 'dir':
        if (!existsSync(target) || !statSync(target).isDirectory()) mkdirSync(target, { mode: e.mode });
        chmodSync(target, e.mode);
        return;
      case 'symlink':
        symlinkSync(e.target, target);
        return;
      case 'skipped':
        process.stderr.write(`starling: cp: skipped ${posix.join(guestPath, e.path)}: ${e.reason}\n`);
    }
  };
  // Host-side failures (a missing parent directory, a full disk) end the copy: the first is kept and reported.
  let hostError: Error | null = null;
  const onHost = (c: MonitorClient, step: () => void) => {
    if (hostError) return;
    try {
      step();
    } catch (e) {
      hostError = e as Error;
      c.close();
    }
  };
  try {
    await withClient(machine, (c) => c.request({ type: 'copy-out', path: guestPath }, {
      onStream: (m) => onHost(c, () => {
        if ('type' in m && m.type === 'entry') apply(m as unknown as CopyEntry);
      }),
      onBinary: (bytes) => onHost(c, () => {
        if (fd !== null) writeSync(fd, bytes);
      }),
    }).catch((e: Error) => {
      throw hostError ?? new CommandError(`${guestPath}: ${e.message}`);
    }));
    // The reply may have arrived before the connection closed on a host failure.
    if (hostError) throw hostError;
  } catch (e) {
    throw hostFailure(e, hostPath);
  } finally {
    closeFile();
  }
  return 0;
}

async function copyToGuest(hostPath: string, machine: string, guestPath: string): Promise<number> {
  let st;
  try {
    st = lstatSync(hostPath);
  } catch {
    throw new CommandError(`${hostPath}: No such file or directory`);
  }
  void st;
  await withClient(machine, async (c) => {
    const { id, reply } = c.begin<{ path: string }>({ type: 'copy-in', path: guestPath, name: basename(hostPath) });
    const failed = reply.then(() => null, (e: Error) => e);
    const send = async (host: string, rel: string): Promise<void> => {
      const s = lstatSync(host);
      const mode = s.mode & 0o7777;
      if (s.isSymbolicLink()) return c.send({ id, type: 'entry', path: rel, kind: 'symlink', target: readlinkSync(host) });
      if (s.isDirectory()) {
        c.send({ id, type: 'entry', path: rel, kind: 'dir', mode });
        for (const name of readdirSync(host).sort()) await send(join(host, name), rel ? `${rel}/${name}` : name);
        return;
      }
      if (!s.isFile()) return c.send({ id, type: 'entry', path: rel, kind: 'skipped', reason: 'not a regular file, directory or symlink' });
      c.send({ id, type: 'entry', path: rel, kind: 'file', mode, size: s.size });
      const fd = openSync(host, 'r');
      try {
        const buffer = Buffer.alloc(1024 * 1024);
        for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0;) await c.sendBinary(id, buffer.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    };
    try {
      await send(hostPath, '');
    } catch (e) {
      throw hostFailure(e, hostPath);
    }
    c.send({ id, type: 'end' });
    const error = await failed;
    if (error) throw new CommandError(`${guestPath}: ${error.message}`);
  });
  return 0;
}
