// Nothing a guest does with paths reaches a host file outside its root and its binds.
import t from 'tap';
import { writeFileSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { join, basename } from 'node:path';
import { scratchDir, starling } from './helpers.js';

const outside = scratchDir('secret');
const SECRET = `secret-${process.pid}-do-not-leak`;
writeFileSync(join(outside, 'secret.txt'), SECRET);
const bound = join(outside, 'bound');
mkdirSync(bound);
writeFileSync(join(bound, 'ok.txt'), 'inside the bind\n');
symlinkSync('../secret.txt', join(bound, 'up-one'));
symlinkSync('../../../../../../../..', join(bound, 'up-many'));
symlinkSync(outside, join(bound, 'abs-host'));
symlinkSync('/', join(bound, 'abs-root'));
symlinkSync('chain2', join(bound, 'chain1'));
symlinkSync('up-many', join(bound, 'chain2'));
symlinkSync('loop-b', join(bound, 'loop-a'));
symlinkSync('loop-a', join(bound, 'loop-b'));
t.teardown(() => rmSync(outside, { recursive: true, force: true }));

const hostSecret = join(outside, 'secret.txt');
const rel = hostSecret.slice(1);
const run = (...argv: string[]) => starling(['run', '--bind', `${bound}:/jail`, '--', ...argv]);

t.test('a file inside the bind is readable (control)', (tt) => {
  const r = run('cat', '/jail/ok.txt');
  tt.equal(r.stdout, 'inside the bind\n');
  tt.equal(r.status, 0);
  tt.end();
});

const attempts: Array<[string, string]> = [
  ['.. past the root', `/../../../../${rel}`],
  ['host absolute path', hostSecret],
  ['relative symlink out of the bind', '/jail/up-one'],
  ['relative symlink far up, then the host path', `/jail/up-many/${rel}`],
  ['absolute symlink to the host directory', '/jail/abs-host/secret.txt'],
  ['absolute symlink to /', `/jail/abs-root/${rel}`],
  ['symlink chain', `/jail/chain1/${rel}`],
  ['.. out of the bind', `/jail/../${basename(outside)}/secret.txt`],
];

for (const [name, path] of attempts) {
  t.test(name, (tt) => {
    const r = run('cat', path);
    tt.notMatch(r.stdout, SECRET, 'the secret does not leak');
    tt.not(r.status, 0, `cat fails (${r.stderr.trim()})`);
    tt.end();
  });
}

t.test('a symlink loop is ELOOP', (tt) => {
  const r = run('cat', '/jail/loop-a');
  tt.not(r.status, 0);
  tt.match(r.stderr, /Symbolic link loop|Too many levels of symbolic links/);
  tt.end();
});

t.test('read-only binds refuse writes', (tt) => {
  const r = starling(['run', '--bind', `${bound}:/ro:ro`, '--', '/bin/sh', '-c', 'echo x > /ro/new.txt']);
  tt.not(r.status, 0);
  tt.match(r.stderr, /Read-only file system/);
  tt.end();
});
