// Two hand-written SVG charts for the report: horizontal bars of ratios on a log scale, and
// lines over 1, 2, 4, 8 workers. Plain SVG 1.1, no dependency.

export interface Series { label: string; color: string }


const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text in 12 px sans-serif unless attrs sets another font-size. */
const text = (x: number, y: number, s: string, attrs = '') =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="sans-serif"${attrs.includes('font-size=') ? '' : ' font-size="12"'} ${attrs}>${esc(s)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, attrs: string) =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${attrs}/>`;
const svg = (w: number, h: number, body: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;

function legend(series: Series[], x: number, y: number): string[] {
  return series.flatMap((s, i) => [
    `<rect x="${x}" y="${y + i * 18 - 10}" width="12" height="12" fill="${s.color}"/>`,
    text(x + 18, y + i * 18, s.label),
  ]);
}

/**
 * One group of bars per row (a case), one bar per series (a runner), each the ratio against
 * native: "times slower than native" on a log axis whose 1x line is native itself.
 */
export function ratioBars(title: string, rows: { label: string; values: (number | null)[] }[], series: Series[]): string {
  // Room for the longest case name at about 6.6 px per character of 12 px sans-serif.
  const labelWidth = Math.ceil(20 + 6.6 * Math.max(...rows.map((r) => r.label.length))), plotWidth = 420, barH = 12, rowH = series.length * barH + 10, top = 50;
  const values = rows.flatMap((r) => r.values).filter((v): v is number => v !== null && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(1, ...values)))), hi = Math.pow(10, Math.ceil(Math.log10(Math.max(10, ...values))));
  const xOf = (v: number) => labelWidth + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth;
  const height = top + rows.length * rowH + 40 + series.length * 18;
  const body = [text(10, 20, title, 'font-weight="bold" font-size="14"'), text(labelWidth, 40, 'times slower than native (log scale; 1x = native)')];
  for (let d = lo; d <= hi; d *= 10) {
    body.push(line(xOf(d), top - 5, xOf(d), top + rows.length * rowH, `stroke="${d === 1 ? '#000' : '#ccc'}"`));
    body.push(text(xOf(d) - 8, top + rows.length * rowH + 15, `${d}x`));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    body.push(text(labelWidth - 8, y + rowH / 2 + 2, r.label, 'text-anchor="end"'));
    r.values.forEach((v, k) => {
      const by = y + 5 + k * barH;
      if (v === null || v <= 0) { body.push(text(labelWidth + 4, by + barH - 2, 'no figure', 'fill="#888" font-size="10"')); return; }
      const x1 = xOf(Math.min(1, v)), x2 = xOf(Math.max(1, v));
      body.push(`<rect x="${x1.toFixed(1)}" y="${by}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${barH - 2}" fill="${series[k].color}"/>`);
      body.push(text(x2 + 4, by + barH - 2, `${v < 10 ? v.toFixed(1) : v.toFixed(0)}x`, 'font-size="10"'));
    });
  });
  body.push(...legend(series, labelWidth, top + rows.length * rowH + 40));
  return svg(labelWidth + plotWidth + 60, height, body);
}

/** Lines over the worker counts (log-2 spaced), with dashed reference lines and the host's core count marked. */
export function workerLines(title: string, yLabel: string, xs: number[], series: (Series & { ys: (number | null)[] })[],
  references: (Series & { ys: number[] })[], hostCores: number): string {
  const left = 60, top = 40, w = 420, h = 260;
  const all = [...series.flatMap((s) => s.ys), ...references.flatMap((r) => r.ys)].filter((v): v is number => v !== null);
  const yMax = Math.max(1, ...all) * 1.1;
  const xOf = (x: number) => left + (Math.log2(x) / Math.log2(xs[xs.length - 1])) * w;
  const yOf = (y: number) => top + h - (y / yMax) * h;
  const body = [text(10, 20, title, 'font-weight="bold" font-size="14"'),
    line(left, top, left, top + h, 'stroke="#000"'), line(left, top + h, left + w, top + h, 'stroke="#000"'),
    text(left + w / 2 - 60, top + h + 35, 'workers (Starling: --cpus)'), text(12, top - 8, yLabel)];
  for (const x of xs) body.push(line(xOf(x), top + h, xOf(x), top + h + 5, 'stroke="#000"'), text(xOf(x) - 4, top + h + 18, String(x)));
  const step = yMax > 4 ? 1 : yMax > 1.5 ? 0.5 : 0.25;
  for (let y = 0; y <= yMax; y += step) body.push(line(left - 5, yOf(y), left + w, yOf(y), 'stroke="#eee"'), text(left - 35, yOf(y) + 4, y.toFixed(2)));
  if (hostCores <= xs[xs.length - 1]) {
    body.push(line(xOf(hostCores), top, xOf(hostCores), top + h, 'stroke="#888" stroke-dasharray="2,3"'), text(xOf(hostCores) + 4, top + 12, `host cores: ${hostCores}`, 'fill="#555"'));
  }
  const path = (ys: (number | null)[]) => xs.flatMap((x, i) => (ys[i] === null ? [] : [`${xOf(x).toFixed(1)},${yOf(ys[i]!).toFixed(1)}`])).join(' ');
  for (const r of references) body.push(`<polyline points="${path(r.ys)}" fill="none" stroke="${r.color}" stroke-dasharray="6,4"/>`);
  for (const s of series) {
    body.push(`<polyline points="${path(s.ys)}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    xs.forEach((x, i) => { if (s.ys[i] !== null) body.push(`<circle cx="${xOf(x).toFixed(1)}" cy="${yOf(s.ys[i]!).toFixed(1)}" r="3" fill="${s.color}"/>`); });
  }
  body.push(...legend([...series, ...references], left + w + 20, top + 10));
  return svg(left + w + 230, top + h + 50, body);
}
