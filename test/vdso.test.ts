// The vDSO serves clock_gettime, gettimeofday and time without a syscall: under --strace the
// program of test/guest/vdso.c (differential, with its checks of the clocks) shows only the raw
// clock_gettime syscalls it makes on purpose, as strace shows it on Linux.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_SRC, native, scratchDir, starling } from './helpers.js';

t.test('clock reads through the vDSO make no syscall', (tt) => {
  const dir = scratchDir('vdso');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, 'vdso');
  const cc = native('gcc', ['-O1', '-Wall', '-pthread', '-o', exe, join(GUEST_SRC, 'vdso.c')]);
  tt.equal(cc.status, 0, cc.stderr);
  const trace = join(dir, 'trace');
  const r = starling(['run', '--cpus', '2', `--strace=${trace}`, '--bind', `${dir}:/t`, '--', '/t/vdso']);
  tt.equal(r.status, 0, r.stderr);
  const raw = /between vDSO readings of the same clock: (\d+), outside them: 0$/m.exec(r.stdout);
  tt.ok(raw, `the clocks agree: ${r.stdout}`);
  const calls = (name: string) => readFileSync(trace, 'utf8').split('\n').filter((l) => new RegExp(`^\\[pid +\\d+\\] ${name}\\(`).test(l)).length;
  tt.equal(calls('clock_gettime'), Number(raw?.[1]), 'the trace shows the raw clock_gettime syscalls, and no other');
  tt.equal(calls('gettimeofday') + calls('time'), 0, 'gettimeofday and time make no syscall');
  tt.end();
});
