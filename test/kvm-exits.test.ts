// `starling run --exit-stats`: the KVM exit profile at the end of the machine. Every syscall
// is one exit at the shim's syscall entry, so on one vCPU the syscall row counts exactly the
// calls strace shows; the total row is the sum of the others.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ACCEL, scratchDir, starling } from './helpers.js';

t.test('exit profile of /bin/true', { skip: ACCEL === 'kvm' ? false : '--exit-stats counts KVM exits: this pass runs on Unicorn' }, (tt) => {
  const dir = scratchDir('exits');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const trace = join(dir, 'strace.txt');
  const r = starling(['run', '--cpus', '1', '--exit-stats', `--strace=${trace}`, '--', '/bin/true']);
  tt.equal(r.status, 0, r.stderr);
  const rows = new Map<string, number[]>();
  for (const line of r.stderr.split('\n')) {
    const m = /^0\s+(syscall|page fault|preemption|pte updates|other|all)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+$/.exec(line);
    if (m) rows.set(m[1], [Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  const syscalls = readFileSync(trace, 'utf8').split('\n').filter((l) => /^\[pid +\d+\] \w+\(.*= /.test(l)).length;
  tt.ok(syscalls > 5, `strace shows the program's syscalls (${syscalls})`);
  tt.equal(rows.get('syscall')?.[0], syscalls, 'one syscall exit per syscall');
  tt.ok((rows.get('page fault')?.[0] ?? 0) > 0, 'the first touches of the program\'s mappings are page-fault exits');
  const causes = [...rows].filter(([cause]) => cause !== 'all');
  tt.equal(rows.get('all')?.[0], causes.reduce((n, [, v]) => n + v[0], 0), 'the total counts every exit');
  tt.end();
});
