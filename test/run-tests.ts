// Runs every compiled test file under tap and ends with the line `N passed, N failed, N skipped`.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort()
  .map((f) => join(here, f));

const tapBin = join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs');
const child = spawn(process.execPath, [tapBin, '--reporter=tap', '--disable-coverage', '--allow-empty-coverage', '--timeout=900', '--jobs=2', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
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

child.on('close', (code) => {
  const s: Record<string, number> = summary ?? {};
  const passed = s.pass ?? 0;
  const skipped = (s.skip ?? 0) + (s.todo ?? 0);
  const failed = summary ? (s.total ?? 0) - passed - skipped : 1;
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exit(code !== 0 || failed > 0 ? 1 : 0);
});
