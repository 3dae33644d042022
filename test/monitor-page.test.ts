// The monitor's web page in headless Chromium (Debian's chromium, driven by playwright-core):
// it loads with the token, shows the machine's vCPU count and a guest thread by its prctl
// name, subscribes for at least four updates a second, and a screenshot is written to
// test-artifacts/monitor-page.png.
import t from 'tap';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, scratchDir, starling } from './helpers.js';
import { buildMonitored, startMachine } from './monitor-helpers.js';
import { findMachine } from '../src/main/monitor/runtime-dir.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

async function loadPlaywright(): Promise<typeof import('playwright-core') | null> {
  try {
    return await import('playwright-core');
  } catch {
    return null;
  }
}

const playwright = await loadPlaywright();
const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium; scripts/setup.sh does)`
  : !playwright ? 'playwright-core is not installed (npm install)' : null;

t.test('the monitor page in headless Chromium', { skip: missing ?? false }, async (tt) => {
  const dir = scratchDir('monitor-page');
  const bin = buildMonitored(dir);
  const name = `page-${process.pid}`;
  const machine = await startMachine(name, ['--cpus', '2', '--bind', `${bin}:/extra:ro`, '--', '/extra/monitored']);
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  tt.teardown(async () => {
    await browser.close();
    machine.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const { entry, token } = findMachine(name);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const sent: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  await page.goto(`http://127.0.0.1:${entry.port}/?token=${token}`);
  await page.locator('td.comm', { hasText: 'spin-worker' }).first().waitFor({ timeout: 60_000 });
  tt.equal(await page.locator('#cpu-count').textContent(), '2', 'the page shows 2 vCPUs');
  tt.equal(await page.locator('.cpu canvas').count(), 2, 'one utilisation chart per vCPU');
  tt.ok(await page.locator('td.comm', { hasText: 'rt-sleeper' }).count(), 'a thread by its prctl name');
  tt.match(await page.locator('#threads').textContent(), /SCHED_FIFO/, 'policies are shown');
  tt.match(await page.locator('#tree').textContent(), /^1 \/extra\/monitored.*\n {2}2 /m, 'the process tree has pid 2 under pid 1');
  const subscribe = sent.map((s) => JSON.parse(s) as { type: string; intervalMs?: number }).find((m) => m.type === 'subscribe');
  tt.ok(subscribe && subscribe.intervalMs! <= 250, `the page asks for at least four updates a second (every ${subscribe?.intervalMs} ms)`);
  // A little history in the charts makes the screenshot worth looking at (nothing is asserted on it).
  await page.waitForTimeout(2000);
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'monitor-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  tt.ok(statSync(shot).size > 10_000, `screenshot written to ${shot}`);
  tt.equal(starling(['stop', name]).status, 0, 'the machine stops');
  tt.equal(await machine.exited, 128 + 15);
});
