// Many processes: a shell script running 200 pipelines matches a chroot run; a fork bomb under
// --max-procs gets EAGAIN and the machine survives; a segfaulting child leaves its sibling
// running.
import t from 'tap';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ROOTFS, native, scratchDir, starling } from './helpers.js';

const EXTRA = join(ROOT, 'test', 'guest-extra');
const dir = scratchDir('processes');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// 50 rounds of six pipelines each (three of them in command substitutions) and four lines of
// output: 300 pipelines.
const PIPELINES = `
i=0; total=0
while [ $i -lt 50 ]; do
  echo $i | tr 0-9 a-j | sed 's/a/A/g' | wc -c
  n=$(echo "x$i" | tr x y | cut -c2- | wc -c)
  total=$((total + n)); echo "n$i=$n"
  printf '%s\\n' $i $((i * 3)) | sort -rn | head -1
  echo "r$(echo $i | rev)-$(seq 1 $((i % 5 + 1)) | tr '\\n' , | sed 's/,$//')" | cat
  i=$((i + 1))
done
echo total=$total
echo $i | grep -q 50 | cat; exit $((total % 7 + 3))
`;

t.test('200 pipelines in a busybox shell script match a chroot run', (tt) => {
  const expected = native('chroot', [ROOTFS, '/bin/sh', '-c', PIPELINES]);
  const actual = starling(['run', '--', '/bin/sh', '-c', PIPELINES]);
  tt.match(expected.stdout, /^total=\d+$/m, 'the script runs natively in a chroot');
  tt.equal(actual.stdout.split('\n').length, 202, 'four lines per round, the total and a final newline');
  tt.equal(actual.stdout, expected.stdout, 'same stdout');
  tt.equal(actual.status, expected.status, `same exit status (stderr: ${actual.stderr.slice(0, 300)})`);
  tt.end();
});

function build(name: string): string {
  const exe = join(dir, name);
  const cc = native('gcc', ['-O1', '-Wall', '-o', exe, join(EXTRA, `${name}.c`)]);
  if (cc.status !== 0) throw new Error(`${name}.c does not build: ${cc.stderr}`);
  return exe;
}

t.test('a fork bomb under --max-procs 20 gets EAGAIN and the machine survives', (tt) => {
  build('forkbomb');
  const r = starling(['run', '--max-procs', '20', '--bind', `${dir}:/extra:ro`, '--', '/extra/forkbomb'], { timeoutMs: 120_000 });
  const forks = Number(/^forks (\d+)$/m.exec(r.stdout)?.[1]);
  tt.ok(forks >= 1 && forks <= 19, `at most 19 forks beside the parent (got ${forks})`);
  tt.equal(r.stdout, `forks ${forks}\nfork failed: EAGAIN\nreaped all\nfork after reaping: ok\n`);
  tt.equal(r.status, 0, `exit status 0 (stderr: ${r.stderr.slice(0, 300)})`);
  tt.end();
});

t.test('a child dying of SIGSEGV leaves its sibling running', (tt) => {
  const exe = build('segv_sibling');
  const expected = native(exe, []);
  const actual = starling(['run', '--bind', `${dir}:/extra:ro`, '--', '/extra/segv_sibling']);
  tt.equal(expected.stdout, 'B signaled 1 termsig 11\nA alive\nA exited 1 status 0\n', 'native output');
  tt.equal(actual.stdout, expected.stdout, 'same stdout as native');
  tt.equal(actual.status, expected.status, `same exit status (stderr: ${actual.stderr.slice(0, 300)})`);
  tt.end();
});
