// The console device (--console pty): an interactive busybox sh on a pty starling owns, driven
// through the monitor's console messages and through `starling console`. Output reaches every
// attached client and starling's own stdout; typed Ctrl-C interrupts the foreground job as the
// terminal driver would; a window change reaches the guest as a new size and SIGWINCH; bad
// requests get errors; the machine's end ends the attachments.
import t from 'tap';
import { spawn } from 'node:child_process';
import { CLI, cliArgs, starling } from './helpers.js';
import { waitFor } from './monitor-helpers.js';
import { MonitorClient } from '../src/main/monitor/client.js';
import { listMachines } from '../src/main/monitor/runtime-dir.js';

const NAME = `console-${process.pid}`;
const child = spawn(process.execPath, [CLI, ...cliArgs(['run', '--console', 'pty', '--name', NAME, '--', '/bin/sh'])], { stdio: ['ignore', 'pipe', 'pipe'] });
let ownStdout = '';
child.stdout.on('data', (d: Buffer) => (ownStdout += d.toString('latin1')));
child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
t.teardown(() => void child.kill('SIGKILL'));

/** A console attachment: everything it has been sent since attaching, and a way to type. */
interface Attached {
  client: MonitorClient;
  seen: () => string;
  type: (text: string) => Promise<void>;
  /** Waits until the output since the last mark matches re. */
  expect: (re: RegExp) => Promise<boolean>;
  reply: Record<string, unknown>;
}

async function attach(): Promise<Attached> {
  const client = await MonitorClient.connect(NAME);
  let out = '', mark = 0;
  const { id, reply } = client.begin({ type: 'console' }, { onBinary: (bytes) => (out += bytes.toString('latin1')) });
  const answered = await reply;
  return {
    client,
    reply: answered,
    seen: () => out,
    type: (text) => client.sendBinary(id, Buffer.from(text, 'latin1')),
    expect: async (re) => {
      const found = await waitFor(() => re.test(out.slice(mark)));
      mark = out.length;
      return found;
    },
  };
}

/** p, or 'no end' if it has not settled after a minute (a hang fails the test instead of stalling the suite). */
function bounded<T>(p: Promise<T>): Promise<T | 'no end'> {
  return Promise.race([p, new Promise<'no end'>((resolve) => setTimeout(() => resolve('no end'), 60_000).unref())]);
}

t.before(async () => {
  const up = await waitFor(() => listMachines().some((m) => m.name === NAME) && ownStdout.includes('/ # '));
  if (!up) throw new Error(`the machine did not come up: ${ownStdout}`);
});

t.test('attach: the recent output, then what typing prints, on every client and on starling\'s stdout', async (tt) => {
  const a = await attach();
  const b = await attach();
  try {
    tt.match(a.reply, { cols: 80, rows: 24 }, 'the console has the size starling started it with (stdout is not a terminal)');
    tt.match(a.seen(), /BusyBox .* built-in shell \(ash\)[\s\S]*\/ # /, 'a late client first gets the banner and the prompt');
    await a.type('echo typed-$((6*7))\n');
    tt.ok(await a.expect(/\r\ntyped-42\r\n/), 'the typing client sees the command run');
    tt.ok(await b.expect(/typed-\$\(\(6\*7\)\)\r\ntyped-42\r\n/), 'the other client sees the echo and the output');
    tt.ok(await waitFor(() => ownStdout.includes('typed-42')), "starling's own stdout shows it too");
    await b.type('tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys; ls -l /proc/self/fd/2 | grep -o "/dev/console"\n');
    tt.ok(await b.expect(/\/dev\/console\r\nboth-ttys\r\n\/dev\/console\r\n/), 'fds 0-2 are terminals, named /dev/console');
    await b.type('echo via-dev-tty > /dev/tty\n');
    tt.ok(await a.expect(/\r\nvia-dev-tty\r\n/), '/dev/tty is the console');
  } finally {
    a.client.close();
    b.client.close();
  }
});

t.test('Ctrl-C interrupts the foreground job; the shell survives', async (tt) => {
  const a = await attach();
  try {
    // The job says when it runs: a Ctrl-C typed before that would reach the shell instead.
    await a.type("sh -c 'echo job-$((1+1)); exec sleep 1000'\n");
    tt.ok(await a.expect(/\r\njob-2\r\n/), 'the job is running');
    await a.type('\x03');
    tt.ok(await a.expect(/\^C/), 'the line discipline echoes ^C');
    await a.type('echo status=$?\n');
    tt.ok(await a.expect(/\r\nstatus=130\r\n/), 'sleep died of SIGINT (128+2)');
  } finally {
    a.client.close();
  }
});

t.test('a window change sets the size and sends SIGWINCH to the foreground group; bad requests get errors', async (tt) => {
  const a = await attach();
  try {
    // A foreground job traps it (the interactive shell's line editor takes SIGWINCH for itself, as natively).
    await a.type('sh -c \'trap "stty size | tr \\" \\" x; exit 0" WINCH; echo trapped; while :; do sleep 1; done\'\n');
    tt.ok(await a.expect(/\r\ntrapped\r\n/), 'the job traps SIGWINCH');
    await a.client.request({ type: 'console-resize', cols: 100, rows: 40 });
    tt.ok(await a.expect(/(^|\n)40x100\r\n/), 'the trap ran and saw the new size');
    await a.type('stty size\n');
    tt.ok(await a.expect(/\r\n40 100\r\n/), 'the shell sees it too');
    const bad = await a.client.request({ type: 'console-resize', cols: 0, rows: 40 }).then(() => null, (e: Error) => e.message);
    tt.match(bad, /bad window size/, 'a zero width is refused');
    const twice = await a.client.request({ type: 'console' }).then(() => null, (e: Error) => e.message);
    tt.match(twice, /attached already/, 'a connection attaches once');
    await a.client.request({ type: 'console-detach' });
    const detached = await a.client.request({ type: 'console-resize', cols: 90, rows: 30 }).then(() => null, (e: Error) => e.message);
    tt.match(detached, /not attached/, 'after detaching, resizing is refused');
  } finally {
    a.client.close();
  }
});

t.test('starling console: piped input runs, Ctrl-] detaches, the machine keeps running', async (tt) => {
  const cli = spawn(process.execPath, [CLI, 'console', NAME], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
  cli.stdin.write('echo from-cli-$((5*5))\n');
  tt.ok(await waitFor(() => /\r\nfrom-cli-25\r\n/.test(out)), 'the command ran');
  cli.stdin.write('\x1d');
  tt.equal(await bounded(done), 0, 'detaching exits 0');
  tt.match(err, /^starling: console: detached from console-\d+\n$/, 'one line says so');
  tt.ok(listMachines().some((m) => m.name === NAME), 'the machine is still running');
});

t.test('errors: a bad --console value and a machine without a console device', async (tt) => {
  const bad = starling(['run', '--console', 'serial', '--', '/bin/true']);
  tt.equal(bad.status, 2, 'usage error');
  tt.equal(bad.stderr, "starling: --console: 'serial' is not stdio or pty\n");
  const stdioName = `${NAME}-stdio`;
  const plain = spawn(process.execPath, [CLI, ...cliArgs(['run', '--name', stdioName, '--', '/bin/sleep', '30'])], { stdio: 'ignore' });
  try {
    tt.ok(await waitFor(() => listMachines().some((m) => m.name === stdioName)), 'a stdio machine is running');
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const cli = spawn(process.execPath, [CLI, 'console', stdioName], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
      cli.on('exit', (code) => resolve({ code, err }));
    });
    tt.equal(r.code, 1, 'attaching fails');
    tt.equal(r.err, "starling: console: this machine's console is starling's own terminal: start it with --console pty to attach\n");
  } finally {
    plain.kill('SIGKILL');
  }
});

t.test("the guest's exit ends the machine with its status and ends attached clients", async (tt) => {
  const cli = spawn(process.execPath, [CLI, 'console', NAME], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
  tt.ok(await waitFor(() => out.includes('/ # ')), 'starling console is attached (it got the recent output)');
  const a = await attach();
  await a.type('exit 7\n');
  tt.equal(await bounded(exited), 7, "starling exits with the shell's status");
  tt.equal(await bounded(done), 0, 'starling console exits 0');
  tt.match(err, /starling: console: machine console-\d+ stopped\n$/, 'and says the machine stopped');
  tt.match(ownStdout, /exit 7\r\n$/, "the shell's last echo reached starling's stdout before it exited");
});
