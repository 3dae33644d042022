// The monitor: its protocol message by message against a running machine, refusals of
// clients without the token or with malformed messages (the machine keeps running), clients
// that vanish mid-stream, starling ps/kill/cp/stop, a 50 MiB file and a directory tree round
// tripped byte-exact through starling cp, the jail holding against symlinks, and the event log.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createServer, type AddressInfo } from 'node:net';
import { ROOTFS, scratchDir, starling } from './helpers.js';
import { buildMonitored, startMachine, waitFor, type RunningMachine } from './monitor-helpers.js';
import { MonitorClient } from '../src/main/monitor/client.js';
import { findMachine, runtimeDir } from '../src/main/monitor/runtime-dir.js';
import type { ProcessView, Stats } from '../src/main/monitor/protocol.js';

const dir = scratchDir('monitor');
const bin = buildMonitored(dir);
const data = join(dir, 'data');
const readOnly = join(dir, 'ro');
mkdirSync(data);
mkdirSync(readOnly);
// Outside every mount of the guest: no guest path may reach it.
writeFileSync(join(dir, 'secret'), 'host secret\n');
// In the bind: a symlink up and out of it, which the jail must resolve inside the guest.
symlinkSync('../..', join(data, 'up'));
symlinkSync('/', join(data, 'root'));

const NAME = `mon-${process.pid}`;
let machine: RunningMachine;
t.before(async () => {
  machine = await startMachine(NAME, ['--cpus', '2', '--bind', `${bin}:/extra:ro`, '--bind', `${data}:/data`, '--bind', `${readOnly}:/ro:ro`, '--', '/extra/monitored']);
});
t.teardown(() => {
  machine?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A raw WebSocket to the machine's endpoint, and the first reply and close it gets. */
async function raw(send: (ws: WebSocket) => void): Promise<{ reply: Record<string, unknown> | null; code: number }> {
  const { entry } = findMachine(NAME);
  const ws = new WebSocket(`ws://127.0.0.1:${entry.port}/ws`);
  let reply: Record<string, unknown> | null = null;
  ws.on('message', (m) => (reply ??= JSON.parse(m.toString()) as Record<string, unknown>));
  await new Promise((resolve) => ws.once('open', resolve));
  send(ws);
  const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
  return { reply, code };
}

async function processes(): Promise<ProcessView[]> {
  const c = await MonitorClient.connect(NAME);
  try {
    return (await c.request<{ processes: ProcessView[] }>({ type: 'processes' })).processes;
  } finally {
    c.close();
  }
}

const thread = (ps: ProcessView[], comm: string) => ps.flatMap((p) => p.threads.map((th) => ({ p, th }))).find((x) => x.th.comm === comm);

t.test('the machine is registered with a private token', async (tt) => {
  const rt = runtimeDir();
  tt.equal(statSync(rt).mode & 0o777, 0o700, 'runtime directory is 0700');
  tt.equal(statSync(join(rt, `${NAME}.token`)).mode & 0o777, 0o600, 'token file is 0600');
  const list = starling(['ps']);
  tt.match(list.stdout, new RegExp(`^${NAME}\\s+${machine.child.pid}\\s+2\\s`, 'm'), 'starling ps lists it with its pid and vCPU count');
});

t.test('clients without the token or speaking something else are refused; the machine keeps running', async (tt) => {
  const bad = await raw((ws) => ws.send(JSON.stringify({ id: 1, type: 'hello', token: 'wrong' })));
  tt.same([bad.reply?.ok, bad.reply?.error, bad.code], [false, 'bad token', 4001], 'wrong token');
  const noHello = await raw((ws) => ws.send(JSON.stringify({ id: 1, type: 'processes' })));
  tt.same([noHello.reply?.ok, noHello.code], [false, 4000], 'a request before hello');
  const garbage = await raw((ws) => ws.send('{not json'));
  tt.same([garbage.reply?.ok, garbage.code], [false, 4000], 'not JSON');
  const binary = await raw((ws) => ws.send(Buffer.from([1, 2, 3, 4, 5])));
  tt.same([binary.reply?.ok, binary.code], [false, 4000], 'a binary frame first');
  const { token } = findMachine(NAME);
  const unknown = await raw((ws) => {
    ws.send(JSON.stringify({ id: 1, type: 'hello', token }));
    ws.send(JSON.stringify({ id: 2, type: 'reboot' }));
  });
  tt.same([unknown.reply?.ok, unknown.code], [true, 4000], 'hello accepted, then an unknown request type closes the connection');
  const page = await fetch(`http://127.0.0.1:${findMachine(NAME).entry.port}/?token=wrong`);
  tt.equal(page.status, 401, 'the page wants the token too');
  tt.ok(thread(await processes(), 'spin-worker'), 'the machine still answers');
});

t.test('hello, machines, processes, stats, subscribe, unsubscribe', async (tt) => {
  const c = await MonitorClient.connect(NAME);
  try {
    const hello = await c.request<{ machine: { name: string; cpus: number } }>({ type: 'hello', token: findMachine(NAME).token });
    tt.same([hello.machine.name, hello.machine.cpus], [NAME, 2], 'hello names the machine');
    const machines = await c.request<{ machines: Array<{ name: string }> }>({ type: 'machines' });
    tt.ok(machines.machines.some((m) => m.name === NAME), 'machines lists it');
    const ps = (await c.request<{ processes: ProcessView[] }>({ type: 'processes' })).processes;
    const spin = thread(ps, 'spin-worker')!;
    tt.same([spin.p.pid, spin.th.policy, spin.th.affinity, spin.th.lastCpu], [1, 'SCHED_OTHER', [1], 1], 'the pinned thread: policy, affinity, its vCPU');
    tt.ok(spin.th.cpuMs > 0 && spin.th.syscalls > 0, 'it has CPU time and syscalls');
    const rt = thread(ps, 'rt-sleeper')!;
    tt.same([rt.th.policy, rt.th.priority, rt.th.affinity], ['SCHED_FIFO', 10, [0, 1]], 'the real-time thread');
    const child = thread(ps, 'child-proc')!;
    tt.same([child.p.pid, child.p.ppid], [2, 1], 'the child process and its parent');
    const stats = await c.request<Stats>({ type: 'stats' });
    tt.equal(stats.cpus.length, 2, 'one entry per vCPU');
    tt.ok(stats.cpus[1].busyMs > 0 && stats.cpus[1].traps > 0, 'vCPU 1 has been busy and trapped');
    tt.ok(stats.syscalls.find((s) => s.name === 'getppid')!.count > 0, 'syscalls by name count getppid');
    const updates: Stats[] = [];
    let unsubscribed = false;
    await new Promise<void>((resolve, reject) => {
      c.request({ type: 'subscribe', intervalMs: 100 }, {
        onStream: (m) => {
          if (unsubscribed) return;
          updates.push(m as unknown as Stats);
          if (updates.length === 3) resolve();
        },
      }).catch(reject);
    });
    await c.request({ type: 'unsubscribe' });
    unsubscribed = true;
    tt.equal(updates.length, 3, 'three updates arrived');
    tt.ok(updates.every((u) => u.cpus.length === 2 && u.processes.length >= 2), 'each carries vCPUs and processes');
    tt.ok(updates.every((u) => u.cpus.every((cpu) => cpu.utilisation >= 0 && cpu.utilisation <= 1)), 'utilisation is a share');
    const console = await c.request({ type: 'console' }).then(() => null, (e: Error) => e.message);
    tt.match(console, /start it with --console pty/, 'a machine on starling\'s own terminal has no console to attach to');
  } finally {
    c.close();
  }
});

t.test('signal: stop and continue a process; errors for a missing pid and an unknown signal', async (tt) => {
  const c = await MonitorClient.connect(NAME);
  try {
    // As on Linux, the signal takes effect when the process next runs: ask until it has.
    const stateOf2 = async (want: string) => {
      let state: string | undefined;
      for (let i = 0; i < 200 && state !== want; i++) {
        if (i) await new Promise((resolve) => setTimeout(resolve, 25));
        state = (await c.request<{ processes: ProcessView[] }>({ type: 'processes' })).processes.find((p) => p.pid === 2)?.state;
      }
      return state;
    };
    await c.request({ type: 'signal', pid: 2, signal: 'STOP' });
    tt.equal(await stateOf2('stopped'), 'stopped', 'SIGSTOP stops it');
    await c.request({ type: 'signal', pid: 2, signal: 18 });
    tt.equal(await stateOf2('alive'), 'alive', 'SIGCONT resumes it');
    tt.match(await c.request({ type: 'signal', pid: 999, signal: 'TERM' }).then(() => '', (e: Error) => e.message), /No such process/, 'ESRCH');
    tt.match(await c.request({ type: 'signal', pid: 2, signal: 'NOPE' }).then(() => '', (e: Error) => e.message), /unknown signal/, 'bad signal');
  } finally {
    c.close();
  }
  const cli = starling(['kill', '-USR1', NAME, '999']);
  tt.same([cli.status, cli.stderr], [1, `starling: kill: no such process: 999 in ${NAME}\n`], 'starling kill: one line for a missing pid');
  const missing = starling(['kill', 'nosuch-machine', '2']);
  tt.same([missing.status, missing.stderr], [1, 'starling: kill: no such machine: nosuch-machine (see starling ps)\n'], 'one line for a missing machine');
});

t.test('starling ps MACHINE shows threads with policy, priority, affinity and vCPU', async (tt) => {
  const r = starling(['ps', NAME]);
  tt.equal(r.status, 0);
  tt.match(r.stdout, /^PID\s+TID\s+COMM\s+STATE\s+POLICY\s+PRIO\s+NICE\s+AFFINITY\s+CPU\s+LAST\s+TIME\s+SYSCALLS$/m, 'header');
  tt.match(r.stdout, /^\s*1\s+\d+\s+spin-worker\s+\w+\s+OTHER\s+0\s+0\s+1\s+\S+\s+1\s/m, 'the pinned thread');
  tt.match(r.stdout, /^\s*1\s+\d+\s+rt-sleeper\s+\w+\s+FIFO\s+10\s+0\s+0-1\s/m, 'the real-time thread');
  const top = starling(['top', '-n', '1', NAME]);
  tt.match(top.stdout, /^vCPU  1 \[#*\.*\]\s+\d+%/m, 'starling top -n 1 prints one screen');
});

t.test('a client that disconnects mid-stream harms nothing', async (tt) => {
  writeFileSync(join(data, 'stream.bin'), randomBytes(8 * 1024 * 1024));
  const c = await MonitorClient.connect(NAME);
  await new Promise<void>((resolve) => {
    c.request({ type: 'subscribe', intervalMs: 100 }).catch(() => {});
    c.request({ type: 'copy-out', path: '/data/stream.bin' }, { onBinary: () => resolve() }).catch(() => {});
  });
  c.close();
  const { token } = findMachine(NAME);
  // A copy-in cut off after its first bytes: the half-written file is closed, nothing else.
  await raw((ws) => {
    ws.send(JSON.stringify({ id: 1, type: 'hello', token }));
    ws.send(JSON.stringify({ id: 2, type: 'copy-in', path: '/data/cut.bin', name: 'cut.bin' }));
    ws.send(JSON.stringify({ id: 2, type: 'entry', path: '', kind: 'file', mode: 0o644, size: 100 }));
    const frame = Buffer.alloc(54);
    frame.writeUInt32LE(2);
    ws.send(frame, () => ws.terminate());
  });
  const ps = await processes();
  tt.ok(thread(ps, 'spin-worker') && thread(ps, 'rt-sleeper'), 'the machine runs on and answers');
  const again = starling(['cp', `${NAME}:/data/stream.bin`, join(dir, 'stream.out')]);
  tt.equal(again.status, 0, 'a later copy works');
  tt.equal(sha(join(dir, 'stream.out')), sha(join(data, 'stream.bin')), 'and is exact');
});

t.test('starling cp round trips a 50 MiB file byte-exact, both directions', async (tt) => {
  const big = join(dir, 'big.bin');
  writeFileSync(big, randomBytes(50 * 1024 * 1024));
  const into = starling(['cp', big, `${NAME}:/data/`], { timeoutMs: 300_000 });
  tt.same([into.status, into.stderr], [0, ''], 'host to guest');
  tt.equal(sha(join(data, 'big.bin')), sha(big), 'the guest file is exact');
  const out = join(dir, 'out');
  mkdirSync(out);
  const back = starling(['cp', `${NAME}:/data/big.bin`, out], { timeoutMs: 300_000 });
  tt.same([back.status, back.stderr], [0, ''], 'guest to host');
  tt.equal(statSync(join(out, 'big.bin')).size, 50 * 1024 * 1024, 'all 50 MiB');
  tt.equal(sha(join(out, 'big.bin')), sha(big), 'byte-exact');
  const hostname = starling(['cp', `${NAME}:/etc/hostname`, join(out, 'hostname')]);
  tt.equal(hostname.status, 0);
  tt.equal(readFileSync(join(out, 'hostname'), 'utf8'), readFileSync(join(ROOTFS, 'etc', 'hostname'), 'utf8'), 'a rootfs file, as the guest sees it');
  const proc = starling(['cp', `${NAME}:/proc/2/comm`, join(out, 'comm')]);
  tt.equal(readFileSync(join(out, 'comm'), 'utf8'), 'child-proc\n', 'a synthetic /proc file');
});

t.test('starling cp copies directory trees with modes and symlinks', async (tt) => {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(tree, 'sub', 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(tree, 'sub', 'run.sh'), 0o750);
  writeFileSync(join(tree, 'sub', 'deeper', 'empty'), '');
  symlinkSync('sub/run.sh', join(tree, 'link'));
  tt.equal(starling(['cp', tree, `${NAME}:/data/tree-in`]).status, 0, 'into a new guest name');
  const back = join(dir, 'tree-back');
  tt.equal(starling(['cp', `${NAME}:/data/tree-in`, back]).status, 0, 'and out again');
  tt.equal(readFileSync(join(back, 'sub', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n', 'file contents');
  tt.equal(statSync(join(back, 'sub', 'run.sh')).mode & 0o777, 0o750, 'file mode');
  tt.equal(statSync(join(back, 'sub', 'deeper', 'empty')).size, 0, 'an empty file in a nested directory');
  tt.ok(lstatSync(join(back, 'link')).isSymbolicLink(), 'a symlink stays a symlink');
  tt.equal(readlinkSync(join(back, 'link')), 'sub/run.sh', 'with its target');
});

t.test('guest paths stay in the jail; errors are one line', async (tt) => {
  const out = join(dir, 'jail-out');
  const up = starling(['cp', `${NAME}:/data/up/secret`, out]);
  tt.same([up.status, up.stderr], [1, 'starling: cp: /data/up/secret: No such file or directory\n'], 'a symlink up out of the bind resolves inside the guest');
  tt.notOk(existsSync(out), 'nothing was copied');
  const viaRoot = starling(['cp', `${NAME}:/data/root/etc/hostname`, out]);
  tt.equal(viaRoot.status, 0, 'an absolute symlink points at the guest root');
  tt.equal(readFileSync(out, 'utf8'), readFileSync(join(ROOTFS, 'etc', 'hostname'), 'utf8'), 'the guest /etc/hostname, not the host one');
  const ro = starling(['cp', join(dir, 'secret'), `${NAME}:/ro/x`]);
  tt.same([ro.status, ro.stderr], [1, 'starling: cp: /ro/x: Read-only file system\n'], 'a read-only bind refuses');
  const missing = starling(['cp', join(dir, 'nope'), `${NAME}:/data/`]);
  tt.same([missing.status, missing.stderr], [1, `starling: cp: ${join(dir, 'nope')}: No such file or directory\n`], 'a missing host file');
  const noParent = starling(['cp', `${NAME}:/etc/hostname`, join(dir, 'no', 'such', 'dir')]);
  tt.same([noParent.status, noParent.stderr], [1, `starling: cp: ${join(dir, 'no', 'such', 'dir')}: No such file or directory\n`], 'a missing host directory');
  const relative = starling(['cp', `${NAME}:etc/hostname`, out]);
  tt.equal(relative.status, 2, 'a relative guest path is a usage error');
  const { token } = findMachine(NAME);
  const escape = await new Promise<Record<string, unknown>>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${findMachine(NAME).entry.port}/ws`);
    ws.on('message', (m) => {
      const reply = JSON.parse(m.toString()) as Record<string, unknown>;
      if (reply.id === 2) resolve(reply);
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ id: 1, type: 'hello', token }));
      ws.send(JSON.stringify({ id: 2, type: 'copy-in', path: '/data/esc', name: 'esc' }));
      ws.send(JSON.stringify({ id: 2, type: 'entry', path: '', kind: 'dir', mode: 0o755 }));
      ws.send(JSON.stringify({ id: 2, type: 'entry', path: '../../x', kind: 'dir', mode: 0o755 }));
      ws.send(JSON.stringify({ id: 2, type: 'end' }));
    });
  });
  tt.same([escape.ok, escape.errno], [false, 'EINVAL'], 'an entry path out of the copy is refused');
});

t.test('starling stop: SIGTERM to every process, the machine exits and unregisters; the event log tells', async (tt) => {
  const stop = starling(['stop', NAME]);
  tt.same([stop.status, stop.stderr], [0, ''], 'starling stop');
  tt.equal(await machine.exited, 128 + 15, 'the first process died of SIGTERM');
  tt.notOk(existsSync(join(runtimeDir(), `${NAME}.json`)), 'its entry is gone');
  tt.notOk(existsSync(join(runtimeDir(), `${NAME}.token`)), 'and its token');
  const log = readFileSync(join(runtimeDir(), `${NAME}.events.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const kinds = log.map((e) => e.event);
  tt.equal(kinds[0], 'machine-start', 'starts with the machine');
  tt.equal(kinds[kinds.length - 1], 'machine-exit', 'ends with its exit');
  tt.ok(log.some((e) => e.event === 'process-start' && e.pid === 2 && e.ppid === 1), 'the child started');
  tt.ok(log.some((e) => e.event === 'process-exit' && e.pid === 2 && e.signal === 'SIGTERM' && e.comm === 'child-proc'), 'the child died of SIGTERM');
  tt.ok(log.some((e) => e.event === 'killed' && e.pid === 1 && e.signal === 'SIGTERM'), 'pid 1 was killed by SIGTERM');
  tt.ok(log.every((e) => typeof e.time === 'string'), 'every event has a time');
  const gone = starling(['ps', NAME]);
  tt.same([gone.status, gone.stderr], [1, `starling: ps: no such machine: ${NAME} (see starling ps)\n`], 'ps: no such machine');
});

t.test('the event log records unknown syscalls, listeners, refused connections and pool exhaustion', async (tt) => {
  const logFile = join(dir, 'events.jsonl');
  const r = starling(['run', '--mem', '64M', '--event-log', logFile, '--bind', `${bin}:/extra:ro`, '--', '/extra/monitored', 'events']);
  tt.equal(r.stdout, 'vhangup ENOSYS\nlisten ok\nconnect ENETUNREACH\nmmap ENOMEM\n', 'the guest saw each failure');
  const log = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const find = (event: string) => log.find((e) => e.event === event);
  tt.match(find('unknown-syscall'), { nr: 153, name: 'vhangup', pid: 1 });
  tt.match(find('listen'), { address: '127.0.0.1', pid: 1 });
  tt.ok(Number(find('listen')?.port) > 0, 'with its port');
  tt.equal(find('listen')?.hostPort, find('listen')?.port, 'which is the host port when nothing is published');
  tt.match(find('refused'), { address: '192.0.2.1', port: 80 });
  tt.match(find('pool-exhausted'), { bytes: 1024 ** 3, poolBytes: 64 * 1024 ** 2 });
  tt.match(find('process-exit'), { pid: 1, code: 0, signal: null });
});

t.test('the event log names published ports, the host port of a listener and binds the host refuses', async (tt) => {
  const logFile = join(dir, 'bridge-events.jsonl');
  const held = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  const takenPort = (held.address() as AddressInfo).port;
  const [guestPort, hostPort] = await freePorts(2);
  try {
    const r = starling(['run', '--mem', '64M', '--event-log', logFile, '--publish', `${guestPort}:${hostPort}/tcp`, '--bind', `${bin}:/extra:ro`,
      '--', '/extra/monitored', 'events', String(guestPort), String(takenPort)]);
    tt.equal(r.stdout, 'vhangup ENOSYS\nlisten ok\nconnect ENETUNREACH\nmmap ENOMEM\nbind EADDRINUSE\n', 'the guest saw each outcome');
    tt.match(r.stderr, `guest port ${takenPort}/tcp: host port ${takenPort} is already in use on the host`, 'one line says why the bind failed');
    const log = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const find = (event: string) => log.find((e) => e.event === event);
    tt.match(find('publish'), { transport: 'tcp', port: guestPort, hostPort });
    tt.match(find('listen'), { address: '127.0.0.1', pid: 1, port: guestPort, hostPort });
    tt.match(find('bind-refused'), { pid: 1, transport: 'tcp', port: takenPort, hostPort: takenPort, errno: 'EADDRINUSE' });
  } finally {
    held.close();
  }
});

/** n distinct ports free on 127.0.0.1 now (held together, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

t.test('a stale entry of a machine that died is cleaned by ps; a second machine may not take a running name', async (tt) => {
  const rt = runtimeDir();
  const stale = `stale-${process.pid}`;
  writeFileSync(join(rt, `${stale}.json`), JSON.stringify({ name: stale, pid: 2 ** 22 + 1, port: 1, cpus: 1, program: 'x', startedAt: 0, eventLog: '' }));
  writeFileSync(join(rt, `${stale}.token`), 'x\n', { mode: 0o600 });
  const list = starling(['ps']);
  tt.notMatch(list.stdout, stale, 'ps does not list it');
  tt.notOk(existsSync(join(rt, `${stale}.json`)), 'and removed its entry');
  tt.notOk(existsSync(join(rt, `${stale}.token`)), 'and its token');
  const name = `dup-${process.pid}`;
  const first = await startMachine(name, ['--cpus', '1', '--bind', `${bin}:/extra:ro`, '--', '/extra/monitored']);
  try {
    const second = starling(['run', '--name', name, '--', '/bin/true']);
    tt.same([second.status, second.stderr], [125, `starling: a machine called ${name} is already running (see starling ps)\n`], 'one line, exit 125');
  } finally {
    starling(['stop', name]);
    await first.exited;
  }
});

t.test('starling stop: processes that ignore SIGTERM get SIGKILL after the grace period', async (tt) => {
  const name = `grace-${process.pid}`;
  const script = 'trap "" TERM; echo ready; while :; do sleep 1; done';
  const m = await startMachine(name, ['--cpus', '1', '--', '/bin/sh', '-c', script]);
  const stop = starling(['stop', name], { timeoutMs: 60_000 });
  tt.equal(stop.status, 0, 'starling stop returns once the machine is gone');
  tt.equal(await m.exited, 128 + 9, 'the shell, which ignores SIGTERM, died of SIGKILL');
});

t.test('--monitor PORT: announced with its token; a port in use ends the machine with one line', async (tt) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const taken = starling(['run', '--monitor', String(port), '--', '/bin/sleep', '30']);
    tt.same([taken.status, taken.stderr], [125, `starling: --monitor: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`], 'exit 125, one line');
  } finally {
    holder.close();
  }
  const name = `announce-${process.pid}`;
  const m = await startMachine(name, ['--cpus', '1', '--monitor', String(port), '--bind', `${bin}:/extra:ro`, '--', '/extra/monitored']);
  const { token } = findMachine(name);
  tt.equal(findMachine(name).entry.port, port, 'registered on that port');
  const line = `starling: machine ${name}: monitor at http://127.0.0.1:${port}/?token=${token}\n`;
  await waitFor(() => m.stderr().includes(line));
  tt.equal(m.stderr(), line, 'the address is announced with the token');
  const page = await fetch(`http://127.0.0.1:${port}/?token=${token}`);
  tt.match(await page.text(), /<title>Starling monitor<\/title>/, 'the page is served there');
  starling(['stop', name]);
  await m.exited;
});
