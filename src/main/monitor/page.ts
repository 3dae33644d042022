// The live monitor page the monitor server serves at /?token=...: one self-contained HTML
// document (no external scripts, so it works offline) that subscribes over /ws and redraws
// on each update (five a second): per-vCPU utilisation charts, threads grouped by vCPU,
// syscalls per second by name, and the process tree.
export const MONITOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Starling monitor</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 14px; margin: 18px 0 6px; }
  #status { color: #667; }
  .cpus { display: flex; flex-wrap: wrap; gap: 10px; }
  .cpu { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 6px 8px; }
  .cpu canvas { display: block; }
  .cpu .label { display: flex; justify-content: space-between; gap: 12px; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
  th, td { border: 1px solid #dde; padding: 2px 8px; text-align: left; }
  th { background: #eef0f5; }
  td.num { text-align: right; }
  tr.group td { background: #f1f3f8; font-weight: 600; }
  .cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  pre { background: #fff; border: 1px solid #dde; padding: 8px; margin: 0; }
</style>
</head>
<body>
<h1>Starling: <span id="machine">…</span></h1>
<div id="status">connecting…</div>
<h2><span id="cpu-count">?</span> vCPUs</h2>
<div class="cpus" id="cpus"></div>
<div class="cols">
  <div><h2>Threads by vCPU</h2><table id="threads"></table></div>
  <div><h2>Syscalls per second</h2><table id="syscalls"></table></div>
  <div><h2>Process tree</h2><pre id="tree"></pre></div>
</div>
<script>
"use strict";
const HISTORY = 150;
const token = new URLSearchParams(location.search).get('token') || '';
const history = [];
let charts = [];
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const ranges = (cpus) => {
  const out = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    out.push(i === j ? String(cpus[i]) : cpus[i] + '-' + cpus[j]);
    i = j;
  }
  return out.join(',');
};

function setupCpus(n) {
  document.getElementById('cpu-count').textContent = n;
  const box = document.getElementById('cpus');
  box.innerHTML = '';
  charts = [];
  for (let i = 0; i < n; i++) {
    const div = document.createElement('div');
    div.className = 'cpu';
    div.innerHTML = '<div class="label"><b>vCPU ' + i + '</b><span class="util"></span></div>'
      + '<canvas width="240" height="60"></canvas><div class="label"><span class="sys"></span><span class="cs"></span></div>';
    box.appendChild(div);
    charts.push(div);
    history[i] = [];
  }
}

function drawChart(div, points) {
  const c = div.querySelector('canvas');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  g.strokeStyle = '#e3e6ee';
  for (const y of [0.25, 0.5, 0.75]) { g.beginPath(); g.moveTo(0, c.height * y); g.lineTo(c.width, c.height * y); g.stroke(); }
  g.fillStyle = 'rgba(47, 111, 235, 0.25)';
  g.strokeStyle = '#2f6feb';
  g.beginPath();
  const step = c.width / (HISTORY - 1);
  const x0 = c.width - (points.length - 1) * step;
  g.moveTo(x0, c.height);
  points.forEach((u, i) => g.lineTo(x0 + i * step, c.height - u * c.height));
  g.lineTo(c.width, c.height);
  g.closePath();
  g.fill();
  g.beginPath();
  points.forEach((u, i) => (i ? g.lineTo : g.moveTo).call(g, x0 + i * step, c.height - u * c.height));
  g.stroke();
}

function render(u) {
  if (charts.length !== u.cpus.length) setupCpus(u.cpus.length);
  u.cpus.forEach((c, i) => {
    const h = history[i];
    h.push(c.utilisation);
    if (h.length > HISTORY) h.shift();
    const div = charts[i];
    div.querySelector('.util').textContent = (100 * c.utilisation).toFixed(0) + '% busy';
    div.querySelector('.sys').textContent = c.syscallsPerSec.toFixed(0) + ' syscalls/s';
    div.querySelector('.cs').textContent = c.switchesPerSec.toFixed(0) + ' switches/s, ' + c.trapsPerSec.toFixed(0) + ' traps/s';
    drawChart(div, h);
  });
  const threads = [];
  for (const p of u.processes) for (const t of p.threads) threads.push({ p, t });
  const byCpu = new Map();
  for (const x of threads) {
    const key = x.t.lastCpu;
    if (!byCpu.has(key)) byCpu.set(key, []);
    byCpu.get(key).push(x);
  }
  let rows = '<tr><th>PID</th><th>TID</th><th>name</th><th>state</th><th>policy</th><th>prio</th><th>nice</th><th>affinity</th><th>CPU %</th><th>syscalls</th></tr>';
  for (const cpu of [...byCpu.keys()].sort((a, b) => a - b)) {
    rows += '<tr class="group"><td colspan="10">vCPU ' + cpu + '</td></tr>';
    for (const { p, t } of byCpu.get(cpu)) {
      rows += '<tr data-tid="' + t.tid + '"><td class="num">' + p.pid + '</td><td class="num">' + t.tid + '</td><td class="comm">' + esc(t.comm)
        + '</td><td>' + t.state + (t.cpu !== null ? ' on ' + t.cpu : '') + '</td><td>' + t.policy + '</td><td class="num">' + t.priority
        + '</td><td class="num">' + t.nice + '</td><td>' + ranges(t.affinity) + '</td><td class="num">' + t.cpuPercent.toFixed(1)
        + '</td><td class="num">' + t.syscalls + '</td></tr>';
    }
  }
  document.getElementById('threads').innerHTML = rows;
  let sys = '<tr><th>syscall</th><th>per second</th><th>total</th></tr>';
  for (const s of u.syscalls.slice(0, 25)) sys += '<tr><td>' + esc(s.name) + '</td><td class="num">' + s.perSec.toFixed(0) + '</td><td class="num">' + s.count + '</td></tr>';
  document.getElementById('syscalls').innerHTML = sys;
  const kids = new Map();
  const pids = new Set(u.processes.map((p) => p.pid));
  for (const p of u.processes) {
    const parent = pids.has(p.ppid) ? p.ppid : 0;
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(p);
  }
  const lines = [];
  const walk = (pid, indent) => {
    for (const p of kids.get(pid) || []) {
      lines.push(indent + p.pid + ' ' + (p.cmdline.join(' ') || p.comm) + (p.state !== 'alive' ? ' [' + p.state + ']' : '') + (p.threads.length > 1 ? ' (' + p.threads.length + ' threads)' : ''));
      walk(p.pid, indent + '  ');
    }
  };
  walk(0, '');
  document.getElementById('tree').textContent = lines.join('\\n');
  document.getElementById('status').textContent = 'up ' + (u.uptimeMs / 1000).toFixed(0) + ' s, ' + u.processes.length + ' processes, ' + threads.length + ' threads; updated ' + new Date().toLocaleTimeString();
}

function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => ws.send(JSON.stringify({ id: 1, type: 'hello', token }));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id === 1 && m.ok) {
      document.getElementById('machine').textContent = m.machine.name + ' (' + m.machine.program + ')';
      setupCpus(m.machine.cpus);
      ws.send(JSON.stringify({ id: 2, type: 'subscribe', intervalMs: 200 }));
    } else if (m.ok === false) {
      document.getElementById('status').textContent = 'refused: ' + m.error;
    } else if (m.type === 'update') {
      render(m);
    }
  };
  ws.onclose = () => { document.getElementById('status').textContent = 'disconnected (the machine has stopped?)'; };
}
connect();
</script>
</body>
</html>
`;
