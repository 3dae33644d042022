// Event logs of ended machines in the runtime directory (main/monitor/runtime-dir.ts): a start
// keeps the newest 32 and those younger than an hour, and looks at most every 10 minutes.
import t from 'tap';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registration } from '../src/main/monitor/runtime-dir.js';

const HOUR_S = 3600;
const nowS = () => Date.now() / 1000;

t.test('pruning keeps the newest 32 and the young, at most every 10 minutes', async (tt) => {
  const xdg = mkdtempSync(join(tmpdir(), 'starling-rtdir-'));
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = xdg;
  tt.teardown(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
    rmSync(xdg, { recursive: true, force: true });
  });
  const dir = join(xdg, 'starling');
  mkdirSync(dir, { mode: 0o700 });
  const log = (name: string, ageS: number) => {
    const path = join(dir, `${name}.events.jsonl`);
    writeFileSync(path, '{}\n');
    utimesSync(path, nowS() - ageS, nowS() - ageS);
  };
  const logs = () => readdirSync(dir).filter((f) => f.endsWith('.events.jsonl')).sort();
  const start = async (name: string) => {
    new Registration(name);
    await new Promise((resolve) => setImmediate(resolve));
  };

  for (let i = 0; i < 40; i++) log(`old-${String(i).padStart(2, '0')}`, 2 * HOUR_S + i);
  for (let i = 0; i < 3; i++) log(`young-${i}`, 60);
  await start('first');
  const kept = logs();
  tt.equal(kept.length, 32, 'the newest 32 are kept');
  tt.ok(['young-0', 'young-1', 'young-2'].every((n) => kept.includes(`${n}.events.jsonl`)), 'the young ones are among them');
  tt.ok(kept.includes('old-00.events.jsonl') && !kept.includes('old-39.events.jsonl'), 'the oldest went first');

  for (let i = 0; i < 10; i++) log(`older-${i}`, 3 * HOUR_S);
  await start('second');
  tt.equal(logs().length, 42, 'a start within 10 minutes of the last pruning leaves them');

  utimesSync(join(dir, '.pruned'), nowS() - 11 * 60, nowS() - 11 * 60);
  await start('third');
  tt.equal(logs().length, 32, 'one 11 minutes later prunes again');
  tt.notOk(logs().some((f) => f.startsWith('older-')), 'the oldest went');
});
