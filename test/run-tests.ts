// Runs every compiled test file under tap, once per CPU backend: with Unicorn, then with KVM
// where /dev/kvm works (a visible SKIP line where it does not). The backend reaches every
// `starling run` of the tests through STARLING_ACCEL (test/helpers.ts). Ends with the line
// `N passed, N failed, N skipped`, summed over both passes.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeKvm } from '../src/cpu-worker/kvm/kvm-vm.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort()
  .map((f) => join(here, f));

// With no file to run, tap would look for tests itself and run the TypeScript sources.
if (files.length === 0) {
  process.stderr.write(`run-tests: no compiled test file matches ${only.join(', ')}\n`);
  process.exit(2);
}

const tapBin = join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs');

type Totals = { passed: number; failed: number; skipped: number };

/** One pass of the suite with the given backend. */
function runPass(accel: string): Promise<Totals & { code: number }> {
  process.stdout.write(`# backend: ${accel}\n`);
  const child = spawn(process.execPath, [tapBin, '--reporter=tap', '--disable-coverage', '--allow-empty-coverage', '--timeout=900', '--jobs=2', ...files], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, STARLING_ACCEL: accel },
  });
  let summary: Record<string, number> | null = null;
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^# (\{ total: .* \})$/.exec(line.trim());
      if (m) summary = Object.fromEntries([...m[1].matchAll(/(\w+): (\d+)/g)].map(([, k, v]) => [k, Number(v)]));
    }
  });
  return new Promise((resolve) => child.on('close', (code) => {
    const s: Record<string, number> = summary ?? {};
    const passed = s.pass ?? 0;
    const skipped = (s.skip ?? 0) + (s.todo ?? 0);
    const failed = summary ? (s.total ?? 0) - passed - skipped : 1;
    process.stdout.write(`# ${accel}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    resolve({ passed, failed, skipped, code: code ?? 1 });
  }));
}

// STARLING_ACCEL set by the caller: that backend's pass only.
const forced = process.env.STARLING_ACCEL;
const passes = [await runPass(forced || 'unicorn')];
const kvm = forced ? null : probeKvm();
if (kvm?.ok) passes.push(await runPass('kvm'));
else if (kvm) process.stdout.write(`# SKIP the kvm pass: ${kvm.reason}\n`);
const total = passes.reduce((a, p) => ({ passed: a.passed + p.passed, failed: a.failed + p.failed, skipped: a.skipped + p.skipped }), { passed: 0, failed: 0, skipped: kvm && !kvm.ok ? 1 : 0 });
process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(passes.some((p) => p.code !== 0) || total.failed > 0 ? 1 : 0);
