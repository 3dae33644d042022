// --strace output can be diffed against strace -f of the same program on the host: for a
// static program the lines are the same once the pid prefix and column padding are removed.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_SRC, haveMusl, native, scratchDir, starling } from './helpers.js';

const dir = scratchDir('strace');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** One syscall per line, without pid prefixes, column padding, or the execve that started it. */
function normalize(text: string): string[] {
  return text.split('\n')
    .map((l) => l.replace(/^(\[pid\s+\d+\]|\d+)\s+/, '').replace(/\)\s+= /, ') = '))
    .filter((l) => l && !l.startsWith('execve('));
}

t.test('musl hello: same syscalls, arguments and results as strace -f', { skip: haveMusl ? false : 'musl-gcc is not installed' }, (tt) => {
  const exe = join(dir, 'hello');
  tt.equal(native('musl-gcc', ['-static', '-O1', '-o', exe, join(GUEST_SRC, 'hello.c')]).status, 0, 'compiles');
  const traced = native('strace', ['-f', '-o', join(dir, 'native.txt'), exe]);
  tt.equal(traced.status, 0, 'strace runs it natively');
  const r = starling(['run', `--strace=${join(dir, 'guest.txt')}`, '--bind', `${dir}:/s`, '--', '/s/hello']);
  tt.equal(r.status, 0, 'runs under starling');
  const expected = normalize(readFileSync(join(dir, 'native.txt'), 'latin1'));
  const actual = normalize(readFileSync(join(dir, 'guest.txt'), 'latin1'))
    .map((l) => l.replace(/^set_tid_address\((0x[0-9a-f]+)\) = \d+$/, 'set_tid_address($1) = TID'));
  const expectedTid = expected.map((l) => l.replace(/^set_tid_address\((0x[0-9a-f]+)\) = \d+$/, 'set_tid_address($1) = TID'));
  tt.same(actual, expectedTid);
  tt.end();
});
