// `autoserve simulate --report FILE.html`: one self-contained page (no network: uPlot's script and
// stylesheet are inlined from node_modules) with the summary table and one chart per policy: the
// load, the replicas (and the oracle's, for reference) and the p95 against the objective, second by
// second, so a reader can see where a policy lags, flaps or over-provisions.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { SimulationResult } from './simulate.js';
import { describeVerdict, judgeTargets } from './targets.js';
import type { TracePoint } from './trace.js';

export interface ReportInput {
  app: string;
  trace: string;
  sloMs: number;
  points: readonly TracePoint[];
  results: readonly SimulationResult[];
}

const require = createRequire(import.meta.url);

/** uPlot's minified script and stylesheet, read from the installed package. */
async function uplotAssets(): Promise<{ js: string; css: string }> {
  const [js, css] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]);
  return { js, css };
}

export async function renderHtmlReport(input: ReportInput): Promise<string> {
  const { js, css } = await uplotAssets();
  const oracle = input.results.find((r) => r.policy === 'oracle');
  const data = {
    sloMs: input.sloMs,
    seconds: input.points.map((p) => p.second),
    load: input.points.map((p) => p.arrivalsPerSecond),
    oracle: oracle?.replicasPerSecond ?? null,
    policies: input.results.map((r) => ({ policy: r.policy, replicas: r.replicasPerSecond, p95: r.p95PerSecond })),
  };
  const verdict = describeVerdict(judgeTargets(input.results));
  const rows = input.results
    .map((r) => `<tr><td>${escapeHtml(r.policy)}</td><td>${r.secondsOverSlo}</td><td>${r.replicaSeconds}</td><td>${r.maxReplicas}</td><td>${r.directionChanges}</td><td>${r.changes.length}</td><td>${r.requestsDropped}</td></tr>`)
    .join('\n');
  const title = `autoserve simulate: ${input.app}, ${input.trace}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
h2 { margin: 28px 0 4px; font-size: 16px; }
.note { color: #555; max-width: 60em; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="note">Latency objective: p95 &le; ${input.sloMs} ms. ${input.points.length} s simulated. Targets (AutoServe against the baselines and the oracle): ${escapeHtml(verdict)}.
Each chart: requests per second (left axis), replicas running and the oracle's (right axis), and the p95 with the objective (its own log axis, far right).</p>
<table>
<tr><th>policy</th><th>seconds over SLO</th><th>replica-seconds</th><th>max replicas</th><th>direction changes</th><th>scale events</th><th>dropped requests</th></tr>
${rows}
</table>
<div id="charts"></div>
<script type="application/json" id="data">${scriptSafeJson(data)}</script>
<script>${js}</script>
<script>
const data = JSON.parse(document.getElementById('data').textContent);
const width = Math.max(600, Math.min(1400, window.innerWidth - 64));
for (const p of data.policies) {
  const box = document.createElement('div');
  const h = document.createElement('h2');
  h.textContent = p.policy;
  box.appendChild(h);
  document.getElementById('charts').appendChild(box);
  const series = [
    {},
    { label: 'load (rps)', scale: 'rps', stroke: '#999', width: 1 },
    { label: 'replicas', scale: 'n', stroke: '#1f77b4', width: 2 },
    { label: 'oracle replicas', scale: 'n', stroke: '#2ca02c', width: 1, dash: [4, 4], show: data.oracle !== null && p.policy !== 'oracle' },
    { label: 'p95 (ms)', scale: 'ms', stroke: '#d62728', width: 1 },
    { label: 'objective (ms)', scale: 'ms', stroke: '#d62728', width: 1, dash: [8, 4] },
  ];
  const oracle = data.oracle ?? data.seconds.map(() => null);
  const slo = data.seconds.map(() => data.sloMs);
  new uPlot({
    width, height: 300, series,
    scales: {
      x: { time: false },
      rps: { range: (u, min, max) => [0, Math.max(1, max) * 1.05] },
      n: { range: (u, min, max) => [0, Math.max(1, max) + 1] },
      ms: { distr: 3 },
    },
    axes: [
      { label: 'second' },
      { scale: 'rps', label: 'rps', size: 60 },
      { scale: 'n', side: 1, label: 'replicas', grid: { show: false }, size: 50 },
      { scale: 'ms', side: 1, label: 'p95 ms (log)', grid: { show: false }, size: 80, labelGap: 10 },
    ],
  }, [data.seconds, data.load, p.replicas, oracle, p.p95.map((v) => Math.max(1, v)), slo], box);
}
</script>
</body>
</html>
`;
}

/** JSON that cannot close the script element it sits in. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
