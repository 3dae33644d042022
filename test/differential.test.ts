// Every program in test/guest/ is compiled with gcc (dynamic glibc) and musl-gcc (static),
// run natively and under Starling from an empty scratch directory; stdout and exit status
// must be the same.
import t from 'tap';
import { readdirSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_SRC, ROOT, haveMusl, native, scratchDir, starling } from './helpers.js';

const sources = readdirSync(GUEST_SRC).filter((f) => f.endsWith('.c') || f.endsWith('.cpp')).sort();
const bin = scratchDir('bin');
/** C programs build with both libcs; C++ ones with glibc's g++ only (musl-tools has no C++). */
const compilers: Array<{ libc: string; cc: (src: string) => string | null; flags: string[] }> = [
  { libc: 'glibc', cc: (src) => (src.endsWith('.cpp') ? 'g++' : 'gcc'), flags: ['-O1'] },
  { libc: 'musl', cc: (src) => (src.endsWith('.cpp') ? null : 'musl-gcc'), flags: ['-O1', '-static'] },
];

t.teardown(() => rmSync(bin, { recursive: true, force: true }));

for (const { libc, cc, flags } of compilers) {
  const skip = libc === 'musl' && !haveMusl ? 'musl-gcc is not installed (run npm run setup)' : false;
  t.test(`${libc} programs`, { skip }, (tt) => {
    mkdirSync(join(bin, libc));
    for (const source of sources) {
      const compiler = cc(source);
      if (!compiler) continue;
      const name = source.replace(/\.(c|cpp)$/, '');
      tt.test(name, (pt) => {
        const exe = join(bin, libc, name);
        const cc_ = native(compiler, [...flags, '-Wall', '-pthread', '-o', exe, join(GUEST_SRC, source), '-lm'], { cwd: ROOT });
        pt.equal(cc_.status, 0, `compiles: ${cc_.stderr}`);
        const hostScratch = scratchDir('native');
        const guestScratch = scratchDir('guest');
        const expected = native(exe, [], { cwd: hostScratch });
        const actual = starling(['run', '--cpus', '2', '--bind', `${bin}:/bin-under-test:ro`, '--bind', `${guestScratch}:/scratch`,
          '--cwd', '/scratch', '--', `/bin-under-test/${libc}/${name}`]);
        pt.equal(actual.stdout, expected.stdout, `${libc}/${name}: same stdout as native`);
        pt.equal(actual.status, expected.status, `${libc}/${name}: same exit status as native (stderr: ${actual.stderr.slice(0, 500)})`);
        rmSync(hostScratch, { recursive: true, force: true });
        rmSync(guestScratch, { recursive: true, force: true });
        pt.end();
      });
    }
    tt.end();
  });
}
