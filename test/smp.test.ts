// Atomic instructions stay exact whatever the number of vCPUs: 4 threads hammer lock xadd,
// a lock cmpxchg spinlock, an xchg spinlock and a mutex, three times each with --cpus 1, 2
// and 4, under preemption (the counts take well over one 4 ms time slice), placed by the
// scheduler and pinned to different vCPUs.
import t from 'tap';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, native, scratchDir, starling } from './helpers.js';

const dir = scratchDir('smp');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const exe = join(dir, 'atomics');
const built = native('gcc', ['-O1', '-Wall', '-pthread', '-o', exe, join(ROOT, 'test', 'stress', 'atomics.c')]);
const EXPECTED = 'xadd 400000 cmpxchg 400000 xchg 400000 mutex 400000\n';

t.test('the stress program builds and is exact natively', (tt) => {
  tt.equal(built.status, 0, built.stderr);
  tt.equal(native(exe, []).stdout, EXPECTED);
  tt.end();
});

for (const cpus of [1, 2, 4]) {
  t.test(`exact counts with --cpus ${cpus}`, (tt) => {
    for (let run = 0; run < 3; run++) {
      for (const args of [[], ['pin']]) {
        const r = starling(['run', '--cpus', String(cpus), '--bind', `${dir}:/stress`, '--', '/stress/atomics', ...args], { timeoutMs: 120_000 });
        tt.equal(r.stdout, EXPECTED, `run ${run + 1} ${args.join('')}: ${r.stderr.trim()}`);
        tt.equal(r.status, 0);
      }
    }
    tt.end();
  });
}
