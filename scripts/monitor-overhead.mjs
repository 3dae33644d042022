#!/usr/bin/env node
// How much a monitor client slows the guest down: a compute-bound guest (test/guest-extra/
// monitored.c, "spin N") timed with no client and with a client subscribed at the page's rate
// (5 updates a second), alternating, several rounds. Prints the medians of the wall time and
// of starling's CPU time (user+system, from /usr/bin/time: on a loaded host the wall time
// mostly measures the other load, the CPU time what the machine itself did).
//   node scripts/monitor-overhead.mjs [ROUNDS] [MILLIONS]      (after npx tsc -p .)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'src', 'main', 'cli.js');
const { MonitorClient } = await import(join(root, 'dist', 'src', 'main', 'monitor', 'client.js'));
const rounds = Number(process.argv[2] ?? 5);
const millions = process.argv[3] ?? '3000';

const dir = mkdtempSync(join(tmpdir(), 'starling-overhead-'));
const cc = spawnSync('gcc', ['-O1', '-pthread', '-o', join(dir, 'monitored'), join(root, 'test', 'guest-extra', 'monitored.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(cc.stderr);

async function timed(name, watch) {
  const times = join(dir, 'times');
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S', '-o', times, process.execPath, cli, 'run', '--cpus', '2', '--name', name, '--bind', `${dir}:/extra:ro`, '--', '/extra/monitored', 'spin', millions], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let updates = 0;
  let client = null;
  if (watch) {
    for (;;) {
      try {
        client = await MonitorClient.connect(name);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    client.request({ type: 'subscribe', intervalMs: 200 }, { onStream: () => updates++ }).catch(() => {});
  }
  await exited;
  client?.close();
  const [elapsed, user, system] = readFileSync(times, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { seconds: elapsed, cpu: user + system, updates };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = [], watched = [], rates = [];
for (let i = 0; i < rounds; i++) {
  plain.push(await timed(`overhead-plain-${process.pid}`, false));
  const w = await timed(`overhead-watched-${process.pid}`, true);
  watched.push(w);
  rates.push(w.updates / w.seconds);
}
rmSync(dir, { recursive: true, force: true });
const change = (a, b) => `${(100 * (b - a) / a).toFixed(1)}%`;
for (const key of ['seconds', 'cpu']) {
  const p = median(plain.map((r) => r[key])), w = median(watched.map((r) => r[key]));
  console.log(`spin ${millions}, ${key === 'seconds' ? 'wall' : 'CPU'} time: no client ${p.toFixed(2)} s, client at 5 updates/s ${w.toFixed(2)} s: ${change(p, w)}`);
  console.log(`  runs: no client ${plain.map((r) => r[key].toFixed(2)).join(' ')}; client ${watched.map((r) => r[key].toFixed(2)).join(' ')}`);
}
console.log(`updates received: ${median(rates).toFixed(1)}/s`);
