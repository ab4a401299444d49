// One app: its rollout, conditions, replicas (with CPU and memory), charts over the last hour with
// the scaling decisions marked, the scaling history with each decision's why, and its last events.
import { formatAge, formatBytes, formatCores, formatMillis, formatPercent, formatRate } from '../../../src/cli/format.js';
import type { AppHistoryAnswer, ReplicaLoad, TopAnswer } from '../../../src/history/history-views.js';
import { needsAttention } from '../../../src/store/conditions.js';
import { rolloutProgress } from '../../../src/store/rollout-progress.js';
import type { AppStatus, EventRecord, ScalingRecord } from '../../../src/store/status-model.js';
import { getJson } from '../api.js';
import { TimeChart, type Line, type Marker } from '../charts.js';
import { h, replaceChildren } from '../dom.js';
import { coalesce } from '../live.js';
import type { Page, PageContext } from '../page.js';
import { clock, hostOf, phaseBadge, section, table } from '../view.js';

const CHART_WINDOW = '1h';
const RECENT_EVENTS = 25;
const RECENT_SCALING = 20;
const pct = (v: number) => `${Math.round(v)}%`;

export function appPage(ctx: PageContext): Page {
  const name = ctx.params[0]!;
  const path = `/apps/${encodeURIComponent(name)}`;
  const summary = h('div', { class: 'summary' });
  const conditions = h('div');
  const replicas = h('div');
  const scaling = h('div');
  const events = h('div');
  const chartBox = (id: string) => h('div', { class: 'chart', 'data-chart': id });
  const boxes = { rps: chartBox('rps'), p95: chartBox('p95'), cpu: chartBox('cpu'), memory: chartBox('memory'), replicas: chartBox('replicas') };
  replaceChildren(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, name), h('span', { id: 'phase' })),
    summary,
    section('Charts (last hour)', h('div', { class: 'charts' }, Object.values(boxes))),
    section('Replicas', replicas),
    section('Conditions', conditions),
    section('Scaling decisions', scaling),
    section('Events', events),
  );

  let app: AppStatus | undefined;
  let charts: Record<keyof typeof boxes, TimeChart> | undefined;
  let loads: ReplicaLoad[] = [];
  let lastHistory: AppHistoryAnswer | undefined;

  const drawApp = () => {
    if (!app) return;
    replaceChildren(ctx.main.querySelector('#phase')!, phaseBadge(app.phase));
    const rollout = rolloutProgress(app);
    const spec = app.spec;
    replaceChildren(
      summary,
      h(
        'dl',
        null,
        field('Replicas', `${app.replicas.ready} ready / ${app.replicas.desired} desired / ${app.replicas.updated} up to date`),
        field('Rollout', h('span', { class: `rollout rollout-${rollout.state}` }, rollout.message)),
        spec && field('Image', spec.image),
        spec && field('Host', hostOf(app)),
        field('Container revision', app.containerRevision ?? '-'),
        app.revision && field('Source commit', `${app.revision.commit.slice(0, 12)} ${app.revision.message.split('\n')[0] ?? ''}`),
        spec && field('Scaling', spec.scaling ? `${spec.scaling.policy.mode}, ${spec.scaling.minReplicas}..${spec.scaling.maxReplicas}` : 'fixed'),
        app.scaling && field('Autoscaler', `${app.scaling.reason}${app.scaling.heldBy ? ` (held by ${app.scaling.heldBy})` : ''}`),
        app.file && field('File', app.file),
        field('Age', formatAge(app.createdAt)),
      ),
    );
    replaceChildren(
      conditions,
      table(
        ['Type', 'Status', 'Reason', 'Since', 'Message'],
        app.conditions.map((c) => [h('span', { class: needsAttention(c) ? 'chip problem' : 'chip' }, c.type), c.status, c.reason, formatAge(c.lastTransitionTime), c.message]),
      ),
    );
    drawReplicas();
  };

  const drawReplicas = () => {
    if (!app) return;
    const byName = new Map(loads.map((l) => [l.name, l]));
    replaceChildren(
      replicas,
      table(
        ['Name', 'State', 'Health', 'Revision', 'Address', 'Age', 'CPU', 'Memory'],
        app.instances.map((i) => {
          const load = byName.get(i.name);
          return [
            i.name,
            i.draining ? `${i.state} (draining)` : i.state,
            h('span', { class: `health health-${i.health}` }, i.health),
            h('code', null, i.revision),
            i.address ?? '-',
            formatAge(i.startedAt),
            load ? `${formatCores(load.cpuCores)} (${formatPercent(load.cpu)})` : '-',
            load ? `${formatBytes(load.memoryBytes)} (${formatPercent(load.memory)})` : '-',
          ];
        }),
        'No replicas.',
      ),
    );
  };

  const drawCharts = () => {
    if (!app || !lastHistory) return;
    const policy = app.spec?.scaling?.policy;
    charts ??= {
      rps: new TimeChart(boxes.rps, { title: 'Requests per second', format: formatRate }),
      p95: new TimeChart(boxes.p95, {
        title: 'p95 latency',
        format: formatMillis,
        target: policy?.http?.maxP95LatencyMs ? { label: 'objective', value: policy.http.maxP95LatencyMs } : undefined,
        minMax: 10,
      }),
      cpu: new TimeChart(boxes.cpu, {
        title: 'CPU (% of limit)',
        format: pct,
        target: policy?.cpu ? { label: 'target', value: policy.cpu.targetUtilizationPct } : undefined,
        minMax: 10,
      }),
      memory: new TimeChart(boxes.memory, {
        title: 'Memory (% of limit)',
        format: pct,
        target: policy?.memory ? { label: 'target', value: policy.memory.targetUtilizationPct } : undefined,
        minMax: 10,
      }),
      replicas: new TimeChart(boxes.replicas, { title: 'Replicas', format: (v) => String(Math.round(v * 10) / 10), minMax: 2 }),
    };
    const s = lastHistory.series;
    const markers: Marker[] = lastHistory.scaling.map((r) => ({ t: Date.parse(r.time), label: `${r.from}→${r.to}` }));
    const percent = (values: (number | null)[] | undefined) => (values ?? []).map((v) => (v === null ? null : v * 100));
    const one = (label: string, color: string, values: (number | null)[] | undefined): Line[] => [{ label, color, values: values ?? [] }];
    charts.rps.update({ t: s.t, lines: one('requests/s', '#0969da', s.rps), markers });
    charts.p95.update({ t: s.t, lines: one('p95', '#bf8700', s.p95Ms), markers });
    charts.cpu.update({ t: s.t, lines: one('cpu', '#1a7f37', percent(s.cpu)), markers });
    charts.memory.update({ t: s.t, lines: one('memory', '#6639ba', percent(s.memory)), markers });
    charts.replicas.update({
      t: s.t,
      lines: [
        { label: 'desired', color: '#57606a', stepped: true, values: s.desired ?? [] },
        { label: 'ready', color: '#1a7f37', stepped: true, values: s.ready ?? [] },
      ],
      markers,
    });
  };

  const drawScaling = (records: ScalingRecord[]) =>
    replaceChildren(
      scaling,
      table(
        ['Time', 'Change', 'Why', 'Metrics'],
        [...records].reverse().map((r) => [
          clock(r.time),
          `${r.from} → ${r.to}`,
          r.reason,
          Object.entries(r.metrics).map(([k, m]) => `${k} ${m.value === null ? '-' : formatRate(m.value)}/${formatRate(m.target)}`).join(', '),
        ]),
        'No scaling decisions yet.',
      ),
    );

  const drawEvents = (list: EventRecord[]) =>
    replaceChildren(
      events,
      table(
        ['Time', 'Type', 'Reason', 'Message'],
        [...list].reverse().map((e) => [clock(e.time), h('span', { class: `type-${e.type}` }, e.type), e.reason, e.count > 1 ? `${e.message} (x${e.count})` : e.message]),
        'No events.',
      ),
    );

  const loadStatus = coalesce(async () => {
    try {
      const [status, recent, metrics] = await Promise.all([
        getJson<AppStatus>(path),
        getJson<{ events: EventRecord[] }>('/events', { app: name, limit: RECENT_EVENTS }),
        getJson<{ scalingHistory: ScalingRecord[] }>(`${path}/metrics`, { limit: RECENT_SCALING }),
      ]);
      const policyChanged = JSON.stringify(status.spec?.scaling) !== JSON.stringify(app?.spec?.scaling);
      app = status;
      if (policyChanged && charts) {
        for (const chart of Object.values(charts)) chart.destroy();
        charts = undefined; // objectives changed: new target lines
      }
      drawApp();
      drawEvents(recent.events);
      drawScaling(metrics.scalingHistory);
      drawCharts();
    } catch (err) {
      ctx.fail(err);
    }
  });
  const loadMetrics = coalesce(async () => {
    try {
      const [history, top] = await Promise.all([getJson<AppHistoryAnswer>(`${path}/history`, { since: CHART_WINDOW }), getJson<TopAnswer>('/top', { app: name })]);
      lastHistory = history;
      loads = top.apps[0]?.replicas ?? [];
      drawReplicas();
      drawCharts();
    } catch (err) {
      ctx.fail(err);
    }
  });

  loadStatus();
  loadMetrics();
  const off = ctx.live.on((kind) => (kind === 'change' ? loadStatus() : loadMetrics()));
  return {
    destroy() {
      off();
      for (const chart of Object.values(charts ?? {})) chart.destroy();
    },
  };
}

function field(label: string, value: string | Node) {
  return [h('dt', null, label), h('dd', null, value)];
}
