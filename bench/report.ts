// The Markdown report of one invocation and its SVG charts. The same text (with image paths
// relative to docs/) is the generated part of docs/PERFORMANCE.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Group } from './case.js';
import { isFigure, slowdown, type CaseResult, type Outcome, type Results, type RunnerInfo } from './results.js';
import { SCALING_WORKERS } from './cases/scaling.js';
import { ratioBars, workerLines } from './svg.js';

const COLORS: Record<string, string> = { native: '#444444', 'qemu-x86_64': '#e69f00', 'starling-unicorn': '#0072b2', 'starling-kvm': '#009e73' };
const colorOf = (id: string) => COLORS[id] ?? '#cc79a7';

const GROUPS: { group: Group; title: string }[] = [
  { group: 'micro', title: 'Micro' },
  { group: 'network', title: 'Network (host peer over 127.0.0.1)' },
  { group: 'macro', title: 'Macro' },
  { group: 'mediaserver', title: 'MediaServer (ZLMediaKit)' },
  { group: 'scaling', title: 'Scaling' },
];

/** Adaptive precision: three significant figures or so. */
export function num(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}
const cell = (o: Outcome | undefined) => (o === undefined ? '-' : isFigure(o) ? `${num(o.median)} (${num(o.min)}–${num(o.max)})` : `failed: ${o.error.replace(/\|/g, '/')}`);
const ratioText = (r: number | null) => (r === null ? '-' : `${num(r)}x`);

/** The SVG files of results, by file name. */
export function charts(res: Results): Map<string, string> {
  const out = new Map<string, string>();
  const available = res.runners.filter((r) => r.available);
  const emulated = available.filter((r) => r.id !== 'native');
  for (const { group, title } of GROUPS.filter((g) => g.group !== 'scaling')) {
    const rows = res.cases.filter((c) => c.group === group && !c.skipped)
      .map((c) => ({ label: c.name, values: emulated.map((r) => slowdown(c, r.id)) }));
    if (rows.length) out.set(`ratios-${group}.svg`, ratioBars(`${title}: slowdown against native`, rows, emulated.map((r) => ({ label: r.label, color: colorOf(r.id) }))));
  }
  for (const workload of ['processes', 'threads'] as const) {
    const curves = res.scaling.filter((s) => s.workload === workload);
    if (!curves.length) continue;
    const label = (id: string) => available.find((r) => r.id === id)?.label ?? id;
    const ys = (pick: (p: { speedup: number; efficiency: number }) => number, id: string) =>
      SCALING_WORKERS.map((n) => { const p = curves.find((c) => c.runner === id)?.points.find((q) => q.workers === n); return p ? pick(p) : null; });
    const title = workload === 'processes' ? 'N independent processes' : 'N threads of one process';
    const cores = res.host.cores;
    out.set(`scaling-${workload}-speedup.svg`, workerLines(`${title}: speed-up T(1)/T(N)`, 'speed-up', SCALING_WORKERS,
      curves.map((c) => ({ label: label(c.runner), color: colorOf(c.runner), ys: ys((p) => p.speedup, c.runner) })),
      [{ label: 'ideal', color: '#999999', ys: SCALING_WORKERS }, { label: `ideal on ${cores} host cores`, color: '#cc0000', ys: SCALING_WORKERS.map((n) => Math.min(n, cores)) }], cores));
    out.set(`scaling-${workload}-efficiency.svg`, workerLines(`${title}: efficiency (speed-up / N)`, 'efficiency', SCALING_WORKERS,
      curves.map((c) => ({ label: label(c.runner), color: colorOf(c.runner), ys: ys((p) => p.efficiency, c.runner) })),
      [{ label: 'ideal', color: '#999999', ys: SCALING_WORKERS.map(() => 1) }, { label: `ideal on ${cores} host cores`, color: '#cc0000', ys: SCALING_WORKERS.map((n) => Math.min(1, cores / n)) }], cores));
  }
  return out;
}

/** The report; imageDir is where the SVGs are, relative to the Markdown file. */
export function markdown(res: Results, imageDir: string, chartNames: string[]): string {
  const h = res.host;
  const available = res.runners.filter((r) => r.available);
  const emulated = available.filter((r) => r.id !== 'native');
  const img = (name: string, alt: string) => (chartNames.includes(name) ? [`![${alt}](${imageDir}${name})`, ''] : []);
  const lines = [
    `Host: ${h.cores} cores, ${h.cpuModel}, Linux ${h.kernel}, Node ${h.node}; ${h.date}.`,
    `Load average before the run ${h.loadavgBefore.join(' ')} (${h.otherLoad ? 'other work was running on the host' : 'the host was otherwise idle'}), after it ${h.loadavgAfter.join(' ')}.`,
    `Each figure is the median (min–max) of ${res.invocation.repetitions} run(s)${res.invocation.quick ? ' (--quick: tiny sizes)' : ''}; ratios are against native in this same invocation`
      + ` (for rates, native's rate over the runner's, so larger is always slower). The whole run took ${Math.round(res.invocation.durationSeconds / 60)} min.`,
    '',
    'Runners: ' + res.runners.map((r) => (r.available ? r.label : `${r.label}: unavailable (${r.reason})`)).join('; ') + '.',
    '',
  ];
  for (const { group, title } of GROUPS) {
    const cases = res.cases.filter((c) => c.group === group);
    if (!cases.length) continue;
    lines.push(`### ${title}`, '');
    const ran = cases.filter((c) => !c.skipped);
    if (ran.length) {
      lines.push(`| case | unit | ${available.map((r) => r.label).join(' | ')} | ${emulated.map((r) => `${r.label} vs native`).join(' | ')} |`,
        `|---|---|${available.map(() => '---|').join('')}${emulated.map(() => '---|').join('')}`);
      for (const c of ran) {
        lines.push(`| ${c.name} | ${c.unit} | ${available.map((r) => cell(c.figures[r.id])).join(' | ')} | ${emulated.map((r) => ratioText(slowdown(c, r.id))).join(' | ')} |`);
      }
      lines.push('');
    }
    for (const c of cases.filter((c) => c.skipped)) lines.push(`- SKIP ${c.name}: ${c.skipped}`);
    if (cases.some((c) => c.skipped)) lines.push('');
    if (group === 'scaling') lines.push(...scalingSection(res, available, img));
    else lines.push(...img(`ratios-${group}.svg`, `${title}: slowdown against native`));
  }
  // Cases that share a method (the scaling points, the MediaServer stream counts) are listed once.
  const byMethod = new Map<string, string[]>();
  for (const c of res.cases) byMethod.set(c.method, [...(byMethod.get(c.method) ?? []), c.name]);
  lines.push('How each figure is taken:', '', ...[...byMethod].map(([method, names]) => `- ${names.join('; ')}: ${method}.`), '');
  return lines.join('\n');
}

function scalingSection(res: Results, available: RunnerInfo[], img: (name: string, alt: string) => string[]): string[] {
  const out: string[] = [];
  for (const workload of ['processes', 'threads'] as const) {
    const curves = res.scaling.filter((s) => s.workload === workload);
    if (!curves.length) continue;
    out.push(`Speed-up T(1)/T(N) and efficiency (speed-up/N), ${workload === 'processes' ? 'N independent processes' : 'N threads of one process'}:`, '',
      `| runner | ${SCALING_WORKERS.map((n) => `N=${n}`).join(' | ')} |`, `|---|${SCALING_WORKERS.map(() => '---|').join('')}`);
    for (const c of curves) {
      const label = available.find((r) => r.id === c.runner)?.label ?? c.runner;
      out.push(`| ${label} | ${SCALING_WORKERS.map((n) => { const p = c.points.find((q) => q.workers === n); return p ? `${num(p.speedup)}x (${Math.round(p.efficiency * 100)}%)` : '-'; }).join(' | ')} |`);
    }
    out.push('', ...img(`scaling-${workload}-speedup.svg`, `${workload}: speed-up`), ...img(`scaling-${workload}-efficiency.svg`, `${workload}: efficiency`));
  }
  return out;
}

/** Writes results.json, the report and its charts into dir under the given base name. */
export function writeReport(res: Results, dir: string, base: string): string[] {
  const svgs = charts(res);
  for (const [name, body] of svgs) writeFileSync(join(dir, name), body);
  writeFileSync(join(dir, `${base}.json`), JSON.stringify(res, null, 2) + '\n');
  writeFileSync(join(dir, `${base}.md`), `# Starling bench results\n\n${markdown(res, '', [...svgs.keys()])}`);
  return [...svgs.keys()];
}
