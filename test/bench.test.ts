// The bench runner (bench/): `starling bench --quick` runs every case once at tiny sizes; the
// JSON it writes must follow the schema and hold a number for every case under every available
// runner. No figure is compared with anything: speed is the bench's business, not the tests'.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, scratchDir } from './helpers.js';
import { SCHEMA, scalingCurves, slowdown, summarize, type CaseResult, type Results } from '../bench/results.js';
import { configWithOnlyRtsp } from '../bench/cases/mediaserver.js';
import { SCALING_WORKERS } from '../bench/cases/scaling.js';
import { BEGIN, END, updatePerformanceDoc } from '../bench/docs.js';

t.test('summarize: median of an odd and an even count, min and max', async (tt) => {
  tt.same(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, runs: [5, 1, 3] });
  tt.equal(summarize([4, 1, 3, 2]).median, 2.5);
});

t.test('slowdown is "times slower than native" for times and for rates', async (tt) => {
  const fig = (median: number) => ({ median, min: median, max: median, runs: [median] });
  const base = { name: 'x', group: 'micro' as const, unit: 'u', method: 'm' };
  tt.equal(slowdown({ ...base, lowerIsBetter: true, figures: { native: fig(2), q: fig(6) } }, 'q'), 3);
  tt.equal(slowdown({ ...base, lowerIsBetter: false, figures: { native: fig(600), q: fig(200) } }, 'q'), 3);
  tt.equal(slowdown({ ...base, lowerIsBetter: true, figures: { native: fig(2), q: { error: 'exit 1' } } }, 'q'), null);
});

t.test('scaling curves: speed-up T(1)/T(N) and efficiency speed-up/N, per runner', async (tt) => {
  const cases: CaseResult[] = [[1, 800], [2, 400], [4, 400], [8, 400]].map(([n, ms]) => ({
    name: `p${n}`, group: 'scaling', unit: 'ms', lowerIsBetter: true, method: 'm', scaling: { workload: 'processes', workers: n },
    figures: { native: { median: ms, min: ms, max: ms, runs: [ms] } },
  }));
  const [curve] = scalingCurves(cases, [{ id: 'native', label: 'native', available: true }]);
  tt.same(curve.points.map((p) => [p.workers, p.speedup, p.efficiency]), [[1, 1, 1], [2, 2, 1], [4, 2, 0.5], [8, 2, 0.25]]);
});

t.test('MediaServer config: RTSP on the given port, every other server off', async (tt) => {
  const ini = '[http]\nport=80\nsslport=443\n[rtsp]\nport=554\nsslport=0\n[rtmp]\nport=1935\n[hls]\nsegNum=0\n';
  tt.equal(configWithOnlyRtsp(ini, 12345), '[http]\nport=0\nsslport=0\n[rtsp]\nport=12345\nsslport=0\n[rtmp]\nport=0\n[hls]\nsegNum=0\n');
});

t.test('PERFORMANCE.md: only the part between the markers is regenerated', async (tt) => {
  const dir = scratchDir('bench-doc');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const doc = join(dir, 'PERFORMANCE.md');
  writeFileSync(doc, `# P\n\nhand-written above\n\n${BEGIN}\nold table\n${END}\n\nhand-written below\n`);
  const res: Results = {
    schema: SCHEMA, invocation: { quick: false, only: null, repetitions: 5, durationSeconds: 60 }, scaling: [],
    host: { cores: 2, cpuModel: 'cpu', kernel: 'k', node: 'v20', date: 'd', loadavgBefore: [0, 0, 0], loadavgAfter: [1, 1, 1], otherLoad: false },
    runners: [{ id: 'native', label: 'native', available: true }],
    cases: [{ name: 'the case', group: 'micro', unit: 'ms', lowerIsBetter: true, method: 'how', figures: { native: summarize([1, 2, 3, 4, 5]) } }],
  };
  updatePerformanceDoc(res, [], doc);
  const text = readFileSync(doc, 'utf8');
  tt.match(text, /^# P\n\nhand-written above\n/);
  tt.match(text, /hand-written below\n$/);
  tt.notMatch(text, /old table/);
  tt.match(text, /\| the case \| ms \| 3\.00 \(1\.00–5\.00\) \|/);
});

t.test('starling bench: usage errors are one line and exit 2', async (tt) => {
  for (const [args, message] of [[['--frob'], /unknown option '--frob'/], [['--only'], /--only needs a value/], [['--only', 'no-such-case'], /no case matches/]] as const) {
    const r = spawnSync(process.execPath, [CLI, 'bench', ...args], { encoding: 'utf8' });
    tt.equal(r.status, 2, `bench ${args.join(' ')}: exit 2`);
    tt.match(r.stderr, message);
    tt.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  const bad = spawnSync(process.execPath, [CLI, 'bench', '--only', 'getppid'], { encoding: 'utf8', env: { ...process.env, STARLING_BENCH_PUSH_SECONDS: 'soon' } });
  tt.equal(bad.status, 1, 'a bad STARLING_BENCH_PUSH_SECONDS: exit 1');
  tt.equal(bad.stderr, "starling: bench: STARLING_BENCH_PUSH_SECONDS: 'soon' is not a whole number of seconds\n", 'in one line, before any case runs');
});

t.test('starling bench --quick: every case under every available runner produces a number', { timeout: 600_000 }, async (tt) => {
  const out = scratchDir('bench-quick');
  tt.teardown(() => rmSync(out, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env.STARLING_ZLM_DIR; // MediaServer is slow and optional: its cases must show as skipped
  const r = spawnSync(process.execPath, [CLI, 'bench', '--quick', '--out', out], { encoding: 'utf8', env, timeout: 590_000 });
  tt.equal(r.status, 0, `the quick bench succeeds: ${r.stderr.split('\n').filter((l) => /failed|error/i.test(l)).join('; ')}`);
  tt.match(r.stderr, /^bench: \[1\/\d+\] .* \(\d+ remaining\)$/m, 'a progress line names the case and how many remain');
  tt.match(r.stderr, /^bench: SKIP MediaServer start to listening: STARLING_ZLM_DIR is not set/m, 'MediaServer cases are skipped visibly');

  const res = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as Results;
  tt.equal(res.schema, SCHEMA);
  tt.ok(Number.isInteger(res.host.cores) && res.host.cores > 0, 'host cores');
  tt.ok(typeof res.host.cpuModel === 'string' && res.host.cpuModel.length > 0, 'host CPU model');
  tt.equal(res.host.loadavgBefore.length, 3, 'load average before the run');
  tt.equal(typeof res.host.otherLoad, 'boolean', 'whether other load was running');
  tt.same(res.invocation, { ...res.invocation, quick: true, only: null, repetitions: 1 });

  const ids = res.runners.map((x) => x.id);
  tt.same(ids, ['native', 'qemu-x86_64', 'starling-unicorn', 'starling-kvm'], 'native, qemu-x86_64 and one runner per Starling backend');
  const available = res.runners.filter((x) => x.available);
  tt.ok(available.some((x) => x.id === 'starling-unicorn'), 'Starling on Unicorn is available');
  for (const x of res.runners.filter((x) => !x.available)) tt.ok(x.reason, `${x.id} unavailable says why: ${x.reason}`);

  const groups = new Set(res.cases.map((c) => c.group));
  tt.same([...groups].sort(), ['macro', 'mediaserver', 'micro', 'network', 'scaling'], 'every group is present');
  for (const c of res.cases) {
    if (c.group === 'mediaserver') {
      tt.match(c.skipped, /STARLING_ZLM_DIR/, `${c.name}: skipped with the reason`);
      continue;
    }
    for (const x of available) {
      const f = c.figures[x.id];
      const ok = f !== undefined && !('error' in f) && [f.median, f.min, f.max].every(Number.isFinite) && f.runs.length === 1 && f.min <= f.median && f.median <= f.max;
      tt.ok(ok, `${c.name} under ${x.id}: a number (${JSON.stringify(f)})`);
    }
  }
  for (const workload of ['processes', 'threads']) {
    for (const x of available) {
      const curve = res.scaling.find((s) => s.workload === workload && s.runner === x.id);
      tt.same(curve?.points.map((p) => p.workers), SCALING_WORKERS, `${workload} under ${x.id}: a point for every worker count`);
    }
  }

  const md = readFileSync(join(out, 'latest.md'), 'utf8');
  tt.match(md, /^Host: \d+ cores, /m, 'the report names the host');
  tt.match(md, /Load average before the run/, 'and its load');
  tt.match(md, /^- SKIP MediaServer start to listening: /m, 'the report lists the skipped cases');
  const svgs = readdirSync(out).filter((f) => f.endsWith('.svg')).sort();
  tt.same(svgs, ['ratios-macro.svg', 'ratios-micro.svg', 'ratios-network.svg', 'scaling-processes-efficiency.svg', 'scaling-processes-speedup.svg',
    'scaling-threads-efficiency.svg', 'scaling-threads-speedup.svg'], 'a chart per group and per scaling curve');
  for (const f of svgs) {
    const body = readFileSync(join(out, f), 'utf8');
    tt.match(body, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>[\s\S]*<\/svg>\n$/, `${f} is an SVG document`);
    const repeated = [...body.matchAll(/<\w+((?:\s+[\w-]+="[^"]*")*)\s*\/?>/g)].find((m) => {
      const names = [...m[1].matchAll(/([\w-]+)=/g)].map((a) => a[1]);
      return new Set(names).size !== names.length;
    });
    tt.equal(repeated, undefined, `${f}: no element repeats an attribute (browsers reject the file)`);
    tt.match(md, new RegExp(`\\]\\(${f.replace('.', '\\.')}\\)`), `the report shows ${f}`);
  }
  tt.ok(existsSync(join(out, 'latest.md')));
});
