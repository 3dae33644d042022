#!/usr/bin/env node
// How much a monitor client slows the guest down: a compute-bound guest (test/guest-extra/
// monitored.c, "spin N") timed with no client and with a client subscribed at the page's rate
// (5 updates a second), alternating, several rounds. Prints the medians and the difference.
//   node scripts/monitor-overhead.mjs [ROUNDS] [MILLIONS]      (after npx tsc -p .)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [cli, 'run', '--cpus', '2', '--name', name, '--bind', `${dir}:/extra:ro`, '--', '/extra/monitored', 'spin', millions], { stdio: 'ignore' });
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
  process.stderr.write(`${name}: ${watch ? 'watched' : 'running'}\n`);
  await exited;
  client?.close();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, updates };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = [], watched = [], rates = [];
for (let i = 0; i < rounds; i++) {
  plain.push((await timed(`overhead-plain-${process.pid}`, false)).seconds);
  const w = await timed(`overhead-watched-${process.pid}`, true);
  watched.push(w.seconds);
  rates.push(w.updates / w.seconds);
}
rmSync(dir, { recursive: true, force: true });
const p = median(plain), w = median(watched);
console.log(`spin ${millions}: no client ${p.toFixed(3)} s, client at 5 updates/s ${w.toFixed(3)} s (${median(rates).toFixed(1)} updates/s received): ${(100 * (w - p) / p).toFixed(1)}%`);
console.log(`runs: plain ${plain.map((x) => x.toFixed(3)).join(' ')}; watched ${watched.map((x) => x.toFixed(3)).join(' ')}`);
