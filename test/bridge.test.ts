// The bridge between guest ports and host ports: --publish GUEST:HOST moves a TCP and UDP
// port (and a guest connecting to its own published port reaches its own listener), a host
// port already taken makes the guest's bind fail with EADDRINUSE and one warning line, guest
// listeners take connections from the host's loopback only unless --listen-all, and a port
// below 1024 the host refuses to a non-root user is explained in one line.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, native, scratchDir, starling } from './helpers.js';

const dir = scratchDir('bridge');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exe = join(dir, 'bridge');
const built = native('gcc', ['-O1', '-Wall', '-o', exe, join(ROOT, 'test', 'guest-extra', 'bridge.c')]);
const bind = ['--bind', `${dir}:/t`];

interface Guest {
  child: ChildProcess;
  /** Resolves with the first match of re in the guest's stdout so far or to come. */
  waitFor: (re: RegExp) => Promise<RegExpExecArray>;
  exited: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

function startGuest(args: string[]): Guest {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of [...waiters]) {
      const m = w.re.exec(stdout);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ status: code, stdout, stderr })));
  const waitFor = (re: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const m = re.exec(stdout);
    if (m) return resolve(m);
    waiters.push({ re, resolve });
    void exited.then((r) => reject(new Error(`the guest ended (status ${r.status}) before printing ${re}: ${r.stdout} ${r.stderr}`)));
  });
  return { child, waitFor, exited };
}

/** A port that is free on host loopback for both TCP and UDP right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    await new Promise((resolve) => server.close(resolve));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    if (ok) return port;
  }
}

function tcpExchange(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(text));
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

function udpExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(m.toString());
    });
    s.send(text, port, '127.0.0.1');
  });
}

/** How a TCP connection attempt ends: 'connected' or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const GUEST_PORT = 7554;

t.test('--publish GUEST:HOST moves a TCP and a UDP port', async (tt) => {
  tt.equal(built.status, 0, `compiles: ${built.stderr}`);
  const host = await freePort();
  const guest = startGuest(['--publish', `${GUEST_PORT}:${host}`, ...bind, '--', '/t/bridge', 'publish', String(GUEST_PORT)]);
  await guest.waitFor(/ready\n/);
  tt.equal(await tcpExchange('127.0.0.1', host, 'hello over tcp'), 'hello over tcp', `a host client of port ${host} reaches the guest's TCP listener`);
  tt.equal(await udpExchange(host, 'hello over udp'), 'hello over udp', `a host datagram to port ${host} reaches the guest's UDP socket`);
  const r = await guest.exited;
  tt.match(r.stdout, `tcp listener on guest port ${GUEST_PORT}, udp on ${GUEST_PORT}`, 'getsockname gives the guest port');
  tt.match(r.stdout, `self connect reached its own listener, peer port ${GUEST_PORT}, accepted local port ${GUEST_PORT}`,
    'a guest connecting to its own published port reaches its own listener, and sees guest ports');
  tt.match(r.stdout, 'udp to its own port: self', 'a datagram to its own published port arrives');
  tt.match(r.stdout, 'served the host over tcp and udp', 'the guest saw both host clients');
  tt.equal(r.status, 0, `exit status 0 (stderr: ${r.stderr})`);
  tt.end();
});

t.test('a host port in use: EADDRINUSE for the guest and one warning naming the port', async (tt) => {
  const server: Server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  const r = starling(['run', ...bind, '--', '/t/bridge', 'bind', String(port)]);
  server.close();
  tt.equal(r.stdout, 'bind: EADDRINUSE\n', "the guest's bind fails with EADDRINUSE");
  tt.equal(r.status, 1, 'the guest exits 1');
  tt.match(r.stderr, new RegExp(`^starling: guest port ${port}/tcp: host port ${port} is already in use on the host`), 'the warning names the port');
  tt.equal(r.stderr.trimEnd().split('\n').length, 1, `one line (${r.stderr})`);
  tt.end();
});

const external = Object.values(networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4')?.address;

t.test('listeners take connections from loopback only, unless --listen-all', { skip: external ? false : 'the host has no non-loopback IPv4 address' }, async (tt) => {
  const confined = startGuest([...bind, '--', '/t/bridge', 'listen']);
  const port = Number((await confined.waitFor(/port (\d+)\n/))[1]);
  tt.equal(await tryConnect(external!, port), 'ECONNREFUSED', `a connection to ${external}:${port} is refused`);
  tt.equal(await tryConnect('127.0.0.1', port), 'connected', 'a connection over loopback is taken');
  const r = await confined.exited;
  tt.match(r.stdout, 'accepted a peer on loopback', 'the guest accepted the loopback peer');

  const open = startGuest(['--listen-all', ...bind, '--', '/t/bridge', 'listen']);
  const openPort = Number((await open.waitFor(/port (\d+)\n/))[1]);
  tt.equal(await tryConnect(external!, openPort), 'connected', `with --listen-all, ${external}:${openPort} is reachable`);
  const o = await open.exited;
  tt.match(o.stdout, 'accepted a peer off loopback', 'the guest accepted a peer that is not on loopback');
  tt.end();
});

const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
const asRoot = process.getuid?.() === 0;
const privilegedSkip = unprivilegedStart <= 80 ? 'the host lets every user bind port 80 (ip_unprivileged_port_start)'
  : asRoot && !existsSync('/usr/bin/setpriv') ? 'running as root without setpriv to drop to an unprivileged user' : false;

t.test('a port below 1024 the host refuses: EACCES and one line saying why', { skip: privilegedSkip }, (tt) => {
  chmodSync(dir, 0o755);
  chmodSync(exe, 0o755);
  const args = ['run', ...bind, '--', '/t/bridge', 'bind', '80'];
  // As root the host would allow it: run starling as nobody, as a normal user would (with an
  // empty environment: tap's process hooks, which it adds to every child, write where nobody may not).
  const asNobody = () => {
    const p = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-i', process.execPath, CLI, ...args],
      { encoding: 'utf8', timeout: 120_000 });
    return { stdout: p.stdout, stderr: p.stderr, status: p.status };
  };
  const r = asRoot ? asNobody() : starling(args);
  tt.equal(r.stdout, 'bind: EACCES\n', "the guest's bind fails with EACCES");
  tt.match(r.stderr, /^starling: guest port 80\/tcp: the host refuses ports below 1024 to a user who is not root/, 'the line says why');
  tt.equal(r.stderr.trimEnd().split('\n').length, 1, `one line (${r.stderr})`);
  tt.end();
});
