// Bad input gets one clear line on stderr and the documented exit status, never a stack trace.
import t from 'tap';
import { writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { native, scratchDir, starling } from './helpers.js';

const dir = scratchDir('badinput');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const hello = join(dir, 'hello');
native('gcc', ['-O1', '-o', hello, '-x', 'c', '-'], { input: 'int main(void){return 0;}' });
const bytes = readFileSync(hello);
const write = (name: string, data: Buffer | string) => {
  writeFileSync(join(dir, name), data);
  chmodSync(join(dir, name), 0o755);
};
write('text', 'just some text\n');
write('truncated', bytes.subarray(0, 200));
const arm = Buffer.from(bytes);
arm.writeUInt16LE(183, 18); // e_machine = EM_AARCH64
write('arm', arm);
native('gcc', ['-O1', '-Wl,--dynamic-linker=/lib/no-such-loader.so', '-o', join(dir, 'nointerp'), '-x', 'c', '-'], {
  input: 'int main(void){return 0;}',
});

const bind = ['--bind', `${dir}:/bad`];
const cases: Array<{ name: string; args: string[]; status: number; message: RegExp }> = [
  { name: 'missing program path', args: ['run', '--', '/no/such/program'], status: 127, message: /\/no\/such\/program: No such file or directory/ },
  { name: 'name not in PATH', args: ['run', '--', 'no-such-command'], status: 127, message: /no-such-command: command not found/ },
  { name: 'not an ELF file', args: ['run', ...bind, '--', '/bad/text'], status: 126, message: /not an ELF file/ },
  { name: 'not x86-64', args: ['run', ...bind, '--', '/bad/arm'], status: 126, message: /not an x86-64 ELF file/ },
  { name: 'truncated ELF', args: ['run', ...bind, '--', '/bad/truncated'], status: 126, message: /truncated/ },
  { name: 'missing interpreter', args: ['run', ...bind, '--', '/bad/nointerp'], status: 127, message: /interpreter \/lib\/no-such-loader\.so is missing/ },
  { name: 'missing rootfs', args: ['run', '--rootfs', join(dir, 'nope'), '--', '/bin/sh'], status: 2, message: /--rootfs: .*nope is not a directory/ },
  { name: 'unknown option', args: ['run', '--frobnicate', '--', '/bin/sh'], status: 2, message: /unknown option '--frobnicate'/ },
  { name: 'bad --cpus', args: ['run', '--cpus', 'many', '--', '/bin/sh'], status: 2, message: /--cpus: 'many' is not a number/ },
  { name: 'bad --mem', args: ['run', '--mem', '12Q', '--', '/bin/sh'], status: 2, message: /--mem: '12Q' is not a size/ },
  { name: 'bad --bind', args: ['run', '--bind', 'nocolon', '--', '/bin/sh'], status: 2, message: /--bind: 'nocolon' is not HOST:GUEST/ },
  { name: 'bad --publish', args: ['run', '--publish', '554:99999', '--', '/bin/sh'], status: 2, message: /--publish: '554:99999' is not GUEST:HOST\[\/tcp\|\/udp\]/ },
  { name: 'a guest port published twice', args: ['run', '--publish', '554:8554', '--publish', '554:9554/tcp', '--', '/bin/sh'], status: 2, message: /--publish: guest port 554\/tcp is published twice/ },
  { name: 'no program', args: ['run', '--cpus', '1'], status: 2, message: /no PROGRAM given/ },
  { name: '--exit-stats on Unicorn', args: ['run', '--accel', 'unicorn', '--exit-stats', '--', '/bin/true'], status: 2, message: /--exit-stats counts KVM exits: use it with --accel kvm or auto/ },
  { name: 'unknown command', args: ['frob'], status: 2, message: /unknown command 'frob'/ },
  { name: 'verify-recording: missing playlist', args: ['verify-recording', join(dir, 'no.m3u8'), '--source', join(dir, 'text')], status: 2, message: /playlist .*no\.m3u8: No such file or directory/ },
  { name: 'verify-recording: missing --source', args: ['verify-recording', join(dir, 'text')], status: 2, message: /--source FILE is missing/ },
  { name: 'verify-recording: not a playlist', args: ['verify-recording', join(dir, 'text'), '--source', join(dir, 'text')], status: 2, message: /not an HLS playlist/ },
];

for (const c of cases) {
  t.test(c.name, (tt) => {
    const r = starling(c.args);
    tt.equal(r.status, c.status, 'exit status');
    const lines = r.stderr.trimEnd().split('\n');
    tt.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    tt.match(lines[0], /^starling: /, 'prefixed with starling:');
    tt.match(lines[0], c.message, 'says what is wrong');
    tt.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    tt.end();
  });
}

t.test('--help documents every option', (tt) => {
  const r = starling(['run', '--help']);
  tt.equal(r.status, 0);
  for (const opt of ['--cpus', '--mem', '--rootfs', '--bind', '--cwd', '--env', '--max-procs', '--strace']) tt.match(r.stdout, opt, `mentions ${opt}`);
  tt.end();
});

t.test('--max-procs bounds the process count: fork beyond it is EAGAIN', (tt) => {
  const r = starling(['run', '--max-procs', '2', '--', '/bin/sh', '-c', 'sleep 1 & sleep 1 & wait']);
  tt.match(r.stderr, /can't fork: Resource temporarily unavailable/);
  const ok = starling(['run', '--max-procs', '3', '--', '/bin/sh', '-c', 'sleep 0.1 & sleep 0.1 & wait; echo done']);
  tt.equal(ok.stdout, 'done\n', 'within the bound, both children run');
  tt.end();
});

t.test('verify-recording checks a synthetic HLS recording against its source (host ffmpeg)', (tt) => {
  const ff = (args: string[]) => native('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const source = join(dir, 'src.mp4'), other = join(dir, 'other.mp4'), playlist = join(dir, 'hls.m3u8');
  const x264 = ['-c:v', 'libx264', '-g', '25', '-pix_fmt', 'yuv420p', '-threads', '1'];
  tt.equal(ff(['-f', 'lavfi', '-i', 'testsrc=d=2:rate=25:size=160x120', ...x264, source]).status, 0, 'ffmpeg makes the source');
  tt.equal(ff(['-f', 'lavfi', '-i', 'testsrc2=d=2:rate=25:size=160x120', ...x264, other]).status, 0, 'and a different video');
  tt.equal(ff(['-i', source, '-c', 'copy', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '0', playlist]).status, 0, 'and an HLS recording of the source');
  const good = starling(['verify-recording', playlist, '--source', source]);
  tt.equal(good.status, 0, `the recording of the source passes: ${good.stdout}${good.stderr}`);
  tt.same(good.stdout.trimEnd().split('\n'), ['segments: 2', 'duration: 2.000 s', 'frames decoded: 50', 'source frames: 50', 'frames: all identical to the source'], 'one line per fact');
  const bad = starling(['verify-recording', playlist, '--source', other]);
  tt.equal(bad.status, 1, 'against a different source it fails');
  tt.match(bad.stdout, /^frames: MISMATCH: frame 0 differs/m, 'and says which frame first differs');
  // A recording that lost its last segment: frames are missing.
  writeFileSync(playlist, readFileSync(playlist, 'utf8').replace(/#EXTINF:[^\n]*\nhls1\.ts\n/, ''));
  const short = starling(['verify-recording', playlist, '--source', source]);
  tt.equal(short.status, 1, 'a recording with a segment missing fails');
  tt.match(short.stdout, /^segments: 1$/m, 'one segment listed');
  tt.match(short.stdout, /^frames: MISMATCH: 25 frames missing/m, 'and says how many frames are missing');
  tt.end();
});
