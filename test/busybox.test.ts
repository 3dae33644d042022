// busybox applets from the default rootfs give the same output under Starling as in a chroot
// of the same rootfs on the host.
import t from 'tap';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOTFS, native, starling } from './helpers.js';

const dataDir = join(ROOTFS, 'tmp', `busybox-test-${process.pid}`);
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'data.bin'), randomBytes(3 * 1024 * 1024 + 17));
writeFileSync(join(dataDir, 'words.txt'), 'the quick brown fox\njumps over\nthe lazy dog\n');
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const guestDir = `/tmp/busybox-test-${process.pid}`;

const cases: Array<[string, string[]]> = [
  ['sh -c echo and ls', ['/bin/sh', '-c', 'echo hi; ls /']],
  ['cat', ['cat', `${guestDir}/words.txt`]],
  ['wc', ['wc', `${guestDir}/words.txt`]],
  ['sha256sum', ['sha256sum', `${guestDir}/data.bin`]],
  ['ls -l of a file', ['ls', '-ln', `${guestDir}/words.txt`]],
];

for (const [name, argv] of cases) {
  t.test(name, (tt) => {
    const expected = native('chroot', [ROOTFS, ...argv]);
    const actual = starling(['run', '--', ...argv]);
    tt.equal(expected.status, 0, 'runs natively in a chroot');
    tt.equal(actual.stdout, expected.stdout, 'same stdout');
    tt.equal(actual.status, expected.status, `same exit status (stderr: ${actual.stderr.slice(0, 300)})`);
    tt.end();
  });
}
