// The interactive busybox shell on a pty, driven expect-style: a background job shows up in
// `jobs` as Running, `kill %1` ends it, arithmetic expansion works, and `exit` ends starling
// with status 0; a resize of the terminal reaches the guest.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { CLI, cliArgs } from './helpers.js';

// Runs ARGV on a new pty, waits for each prompt, sends one command line per prompt and prints
// JSON: the text before the first prompt, each command's reply up to the next prompt, and the
// exit status. A prompt ends with ash's request for the cursor position (ESC [6n), which it
// does not wait to be answered, so none is sent.
const DRIVER = String.raw`
import json, os, pty, re, select, sys, time
argv, commands = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b''
def read_more(what, end):
    global buf
    while time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: every process holding the pty has ended
                data = b''
            buf += data
            return bool(data)
    sys.exit('timed out waiting for %s after %r' % (what, buf))
def read_prompt():
    global buf
    end = time.time() + 30
    while not (m := re.search(rb'[^\n]*[#$] \x1b\[6n', buf)):
        if not read_more('a prompt', end):
            sys.exit('EOF waiting for a prompt after %r' % buf)
    out, buf = buf[:m.start()], buf[m.end():]
    return out.decode(errors='replace')
def read_to_eof():
    end = time.time() + 30
    while read_more('EOF', end):
        pass
    return buf.decode(errors='replace')
result = {'banner': read_prompt(), 'replies': []}
for command in commands:
    os.write(fd, command.encode() + b'\n')
    result['replies'].append(read_to_eof() if command == 'exit' else read_prompt())
deadline = time.time() + 30
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        result['status'] = os.waitstatus_to_exitcode(status)
        break
    time.sleep(0.1)
print(json.dumps(result))
`;

const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' });

t.test('job control in an interactive shell on a pty', { skip: python.status === 0 ? false : 'python3 with its pty module is not installed' }, (tt) => {
  // The job ends some time after kill returns (the signal is delivered, then SIGCHLD), so the
  // shell looks for up to 10 s before the checked `jobs`; a kill that failed still shows Running.
  const settle = 'n=0; while jobs > /tmp/jobs && grep -q Running /tmp/jobs && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done';
  // kill %1 only once the job has exec'd sleep: before that it still ignores SIGTERM, as the
  // interactive shell it was forked from does (ash resets it in the child), and the signal would
  // be dropped, as on Linux. A child started on another vCPU needs an engine there first (about
  // 10 ms, over 100 ms on a loaded host), long enough for this race to be lost.
  const started = 'until grep -q "^Name:.sleep" /proc/$!/status; do sleep 0.1; done';
  const commands = ['sleep 300 &', started, 'jobs', `kill %1; ${settle}`, 'jobs', 'echo done-$((6*7))', 'exit'];
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify([process.execPath, CLI, ...cliArgs(['run', '--', '/bin/sh', '-i'])]), JSON.stringify(commands)],
    { encoding: 'utf8', timeout: 180_000 });
  tt.equal(r.status, 0, `the driver saw every prompt (stderr: ${r.stderr.slice(-500)})`);
  const session = JSON.parse(r.stdout || '{"replies": []}') as { banner: string; replies: string[]; status?: number };
  const [, , jobs, kill, jobsAfterKill, echo] = session.replies;
  tt.match(session.banner, /BusyBox .* built-in shell \(ash\)/, 'the banner');
  tt.match(jobs, /^jobs\r\n\[1\]\+ +Running +sleep 300\r\n/, 'the background job is Running');
  tt.notMatch(jobsAfterKill, /Running/, 'the job is no longer running after kill %1');
  tt.ok(/Terminated +sleep 300/.test(kill + jobsAfterKill) || !/sleep 300/.test(jobsAfterKill), `the job is reported Terminated or gone: ${JSON.stringify(kill + jobsAfterKill)}`);
  tt.equal(echo, 'echo done-$((6*7))\r\ndone-42\r\n', 'arithmetic expansion');
  tt.equal(session.status, 0, 'exit ends starling with status 0');
  tt.end();
});

// Resizes the pty once the guest says it is ready, then waits for the guest to report the new
// size; prints JSON with starling's exit status.
const RESIZE_DRIVER = String.raw`
import fcntl, json, os, pty, select, struct, sys, termios, time
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b''
def wait_for(text):
    global buf
    end = time.time() + 30
    while text not in buf:
        if time.time() > end:
            sys.exit('timed out waiting for %r after %r' % (text, buf))
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b''
            if not data:
                sys.exit('EOF waiting for %r after %r' % (text, buf))
            buf += data
wait_for(b'trapped')
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 33, 111, 0, 0))
wait_for(b'33 111')
_, status = os.waitpid(pid, 0)
print(json.dumps({'status': os.waitstatus_to_exitcode(status)}))
`;

t.test("a resize of starling's terminal reaches the guest as SIGWINCH", { skip: python.status === 0 ? false : 'python3 with its pty module is not installed' }, (tt) => {
  const guest = ['/bin/sh', '-c', 'trap "stty size; exit 5" WINCH; echo trapped; while :; do sleep 1; done'];
  const r = spawnSync('python3', ['-c', RESIZE_DRIVER, JSON.stringify([process.execPath, CLI, ...cliArgs(['run', '--', ...guest])])],
    { encoding: 'utf8', timeout: 120_000 });
  tt.equal(r.status, 0, `the guest printed the new size (stderr: ${r.stderr.slice(-500)})`);
  tt.same(JSON.parse(r.stdout || '{}'), { status: 5 }, 'its trap ran and ended it');
  tt.end();
});
