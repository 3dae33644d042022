// A guest echo server (test/guest-extra/echo_server.c: dual-stack listener, edge-triggered
// epoll, non-blocking sockets) holds 200 concurrent host clients: every byte each one sends
// comes back in order, and clients that hang up mid-stream leave the others unharmed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, ROOT, native, scratchDir } from './helpers.js';

const CLIENTS = 200;
/** Every tenth client hangs up after sending half of its bytes. */
const QUITS = (i: number) => i % 10 === 9;
const BYTES = 32 * 1024;
const CHUNK = 4096;

const dir = scratchDir('echo');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves with the first line of the stream that matches re. */
function lineMatching(stream: NodeJS.ReadableStream, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = re.exec(text);
      if (m) resolve(m);
    });
    stream.on('end', () => reject(new Error(`the server ended without printing ${re}: ${text}`)));
  });
}

type Outcome = { kind: 'echoed'; same: boolean } | { kind: 'quit' } | { kind: 'error'; message: string };

/** One client: sends BYTES random bytes in CHUNK pieces and collects the echo (or hangs up halfway). */
function client(host: string, port: number, quits: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const data = randomBytes(BYTES);
    const received: Buffer[] = [];
    let got = 0;
    const s: Socket = connect({ host, port }, () => {
      const limit = quits ? BYTES / 2 : BYTES;
      for (let at = 0; at < limit; at += CHUNK) s.write(data.subarray(at, Math.min(at + CHUNK, limit)));
      if (quits) {
        s.once('data', () => {
          s.destroy();
          resolve({ kind: 'quit' });
        });
      }
    });
    s.on('data', (chunk: Buffer) => {
      if (quits) return;
      received.push(chunk);
      got += chunk.length;
      if (got >= BYTES) {
        s.end();
        resolve({ kind: 'echoed', same: Buffer.concat(received).equals(data) });
      }
    });
    s.on('error', (e) => resolve({ kind: 'error', message: e.message }));
    s.on('close', () => resolve({ kind: 'error', message: `closed after ${got} of ${BYTES} bytes` }));
  });
}

function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(line));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.on('error', reject);
  });
}

t.test(`a guest echo server holds ${CLIENTS} concurrent host clients`, async (tt) => {
  const exe = join(dir, 'echo_server');
  const cc = native('gcc', ['-O1', '-Wall', '-o', exe, join(ROOT, 'test', 'guest-extra', 'echo_server.c')]);
  tt.equal(cc.status, 0, `compiles: ${cc.stderr}`);
  const server = spawn(process.execPath, [CLI, 'run', '--cpus', '2', '--bind', `${dir}:/t`, '--', '/t/echo_server'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  try {
    const port = Number((await lineMatching(server.stdout!, /port (\d+)\n/))[1]);
    tt.ok(port > 0, 'the server listens on an ephemeral port');

    // Half over IPv4 (the guest sees ::ffff:127.0.0.1), half over IPv6.
    const outcomes = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i % 2 ? '::1' : '127.0.0.1', port, QUITS(i))));
    const quitters = outcomes.filter((o) => o.kind === 'quit').length;
    const echoed = outcomes.filter((o) => o.kind === 'echoed');
    const errors = outcomes.filter((o): o is Extract<Outcome, { kind: 'error' }> => o.kind === 'error');
    tt.equal(quitters, CLIENTS / 10, 'every tenth client hung up mid-stream');
    tt.same(errors.map((e) => e.message), [], 'no client saw an error or an early close');
    tt.equal(echoed.length, CLIENTS - CLIENTS / 10, 'every other client got its echo');
    tt.ok(echoed.every((o) => o.kind === 'echoed' && o.same), `every echoed byte is the byte sent, in order (${BYTES} bytes each)`);

    // The server is still serving, and it saw every connection.
    const stats = await ask(port, 'stats');
    tt.match(stats, new RegExp(`^served ${CLIENTS + 1} `), 'the server accepted every client and a new one after the hang-ups');
  } finally {
    server.kill('SIGTERM');
  }
  tt.equal(await exited, 143, `the server ends on SIGTERM, killed by it (stderr: ${stderr.slice(0, 300)})`);
  tt.end();
});
