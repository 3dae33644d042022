// `npm run bench`: the same guest programs natively, under qemu-x86_64 and under Starling, side
// by side in one invocation. Prints a Markdown table and writes bench/results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROOTFS = join(ROOT, 'rootfs', 'build');
const CLI = join(ROOT, 'dist', 'src', 'main', 'cli.js');
const quick = process.argv.includes('--quick');
const REPS = quick ? 1 : 5;

type Runner = 'native' | 'qemu-x86_64' | 'starling';
const RUNNERS: Runner[] = ['native', 'qemu-x86_64', 'starling'];

interface Case {
  name: string;
  unit: string;
  /** Argument vector inside the guest (paths under /bench are the work directory). */
  argv: string[];
  /** Reads the figure from stdout; null: the wall time in ms; 'cpu': host CPU (user+sys) as % of the wall time. */
  metric: ((stdout: string) => number) | null | 'cpu';
  lowerIsBetter: boolean;
  /** Starling's --cpus (default 2); native and qemu-x86_64 use the host's cores. */
  cpus?: number;
}

const work = mkdtempSync(join(tmpdir(), 'starling-bench-'));
const build = (name: string, flags: string[] = []) => {
  const r = spawnSync('gcc', ['-O2', '-pthread', '-I', join(ROOT, 'bench', 'guest'), ...flags, '-o', join(work, name), join(ROOT, 'bench', 'guest', `${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${name}: ${r.stderr}`);
};
['getppid_loop', 'memcpy_loop', 'hello', 'futex_pingpong', 'thread_create', 'fork_exec', 'sleep_loop', 'idle_threads', 'compute_procs'].forEach((n) => build(n));
writeFileSync(join(work, 'true.c'), 'int main(void) { return 0; }\n');
if (spawnSync('gcc', ['-O2', '-static', '-o', join(work, 'true'), join(work, 'true.c')]).status !== 0) throw new Error('gcc -static true');
const bigFile = join(work, 'data.bin');
writeFileSync(bigFile, Buffer.alloc(64 * 1024 * 1024, 0x5a));

const CASES: Case[] = [
  { name: 'busybox sha256sum of 64 MiB', unit: 'ms', argv: ['/usr/bin/busybox', 'sha256sum', '/bench/data.bin'], metric: null, lowerIsBetter: true },
  { name: 'dynamic hello (start-up)', unit: 'ms', argv: ['/bench/hello'], metric: null, lowerIsBetter: true },
  { name: 'ffmpeg -version (start-up, about 130 libraries)', unit: 'ms', argv: ['/usr/bin/ffmpeg', '-hide_banner', '-version'], metric: null, lowerIsBetter: true },
  { name: 'getppid round trip', unit: 'ns/call', argv: ['/bench/getppid_loop', quick ? '100000' : '1000000'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'getppid round trip from CPU 1', unit: 'ns/call', argv: ['/bench/getppid_loop', quick ? '10000' : '100000', '1'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'memcpy 4 MiB blocks', unit: 'MB/s', argv: ['/bench/memcpy_loop', quick ? '8' : '64'], metric: (s) => parseFloat(s), lowerIsBetter: false },
  { name: 'futex ping-pong between 2 threads', unit: 'us/round trip', argv: ['/bench/futex_pingpong', quick ? '2000' : '20000'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'futex ping-pong, threads on CPUs 0 and 1', unit: 'us/round trip', argv: ['/bench/futex_pingpong', quick ? '1000' : '5000', 'pin'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'thread create + join', unit: 'us/thread', argv: ['/bench/thread_create', quick ? '200' : '2000'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'fork + exec + wait (static true)', unit: 'us', argv: ['/bench/fork_exec', '/bench/true', quick ? '10' : '100'], metric: (s) => parseFloat(s), lowerIsBetter: true },
  { name: 'usleep(500) loop, 2 s: host CPU', unit: '% of a core', argv: ['/bench/sleep_loop'], metric: 'cpu', lowerIsBetter: true },
  { name: '30 idle threads, 2 s: host CPU', unit: '% of a core', argv: ['/bench/idle_threads'], metric: 'cpu', lowerIsBetter: true },
  ...[1, 2].map((cpus): Case => ({
    name: `2 compute processes, Starling --cpus ${cpus}`, unit: 'ms', argv: ['/bench/compute_procs', '2', quick ? '20000000' : '1000000000'],
    metric: null, lowerIsBetter: true, cpus,
  })),
];

/** The host command that runs argv under a runner; /bench maps to the work directory. */
function command(runner: Runner, c: Case): string[] {
  const argv = c.argv;
  const hostPath = (p: string) => (p.startsWith('/bench/') ? join(work, p.slice(7)) : join(ROOTFS, p));
  // Arguments naming /bench files (fork_exec's target too) become host paths outside Starling.
  const hostArgv = argv.map((a, i) => (i === 0 || a.startsWith('/bench/') ? hostPath(a) : a));
  switch (runner) {
    case 'native':
      return hostArgv;
    case 'qemu-x86_64':
      return ['qemu-x86_64', '-L', ROOTFS, ...hostArgv];
    case 'starling':
      return [process.execPath, CLI, 'run', '--cpus', String(c.cpus ?? 2), '--bind', `${work}:/bench`, '--', ...argv];
  }
}

interface Figure { median: number; min: number; max: number; runs: number[] }

/** Host CPU seconds (user + system) of a command and its children, from bash's time. */
function withCpuTime(cmd: string, args: string[]): [string, string[]] {
  return ['bash', ['-c', 'TIMEFORMAT="cpu %U %S"; { time "$@" >/dev/null 2>&1; } 2>&1', '_', cmd, ...args]];
}

function measure(runner: Runner, c: Case): Figure | { error: string } {
  const runs: number[] = [];
  let [cmd, ...args] = command(runner, c);
  if (c.metric === 'cpu') [cmd, args] = withCpuTime(cmd, args);
  for (let i = 0; i < REPS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) return { error: `exit ${r.status}: ${(r.stderr || '').trim().split('\n')[0]}` };
    if (c.metric === 'cpu') {
      const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stdout);
      if (!m) return { error: 'no CPU time reported' };
      runs.push(((Number(m[1]) + Number(m[2])) * 1000 / ms) * 100);
    } else {
      runs.push(c.metric ? c.metric(r.stdout) : ms);
    }
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], runs };
}

const host = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  loadavgAtStart: loadavg(),
  node: process.version,
  date: new Date().toISOString(),
  repetitions: REPS,
};
const results: Array<{ case: string; unit: string; figures: Record<Runner, Figure | { error: string }> }> = [];
CASES.forEach((c, i) => {
  const figures = {} as Record<Runner, Figure | { error: string }>;
  for (const runner of RUNNERS) {
    process.stderr.write(`bench: [${i + 1}/${CASES.length}] ${c.name} under ${runner}\n`);
    figures[runner] = measure(runner, c);
  }
  results.push({ case: c.name, unit: c.unit, figures });
});
rmSync(work, { recursive: true, force: true });

const fmt = (f: Figure | { error: string }) =>
  'error' in f ? `failed (${f.error})` : `${f.median.toFixed(1)} (${f.min.toFixed(1)}–${f.max.toFixed(1)})`;
const ratio = (c: Case, f: Figure | { error: string }, base: Figure | { error: string }) =>
  'error' in f || 'error' in base ? '-' : `${(c.lowerIsBetter ? f.median / base.median : base.median / f.median).toFixed(1)}x`;
const lines = [
  `Host: ${host.cores} cores, ${host.cpu}, load average at start ${host.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')}, Node ${host.node}, ${host.date}.`,
  `Median (min–max) of ${REPS} run(s); slowdowns are relative to native in this same invocation.`,
  '',
  '| case | unit | native | qemu-x86_64 | Starling | qemu vs native | Starling vs native |',
  '|---|---|---|---|---|---|---|',
  ...results.map((r, i) => {
    const c = CASES[i];
    return `| ${r.case} | ${r.unit} | ${fmt(r.figures.native)} | ${fmt(r.figures['qemu-x86_64'])} | ${fmt(r.figures.starling)} | ${ratio(c, r.figures['qemu-x86_64'], r.figures.native)} | ${ratio(c, r.figures.starling, r.figures.native)} |`;
  }),
];
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'latest.json'), JSON.stringify({ host, results }, null, 2));
writeFileSync(join(outDir, 'latest.md'), lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
