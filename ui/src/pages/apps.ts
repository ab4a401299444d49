// The apps page: one sortable row per app with phase, ready/desired, revision, image, host, age,
// a sparkline of requests per second and the conditions that need attention. Rows are kept by app
// and updated in place, so a change costs a few text nodes, not a new table and 100 new charts.
import { formatAge, formatRate } from '../../../src/cli/format.js';
import type { HistoryAnswer } from '../../../src/history/history-views.js';
import { needsAttention } from '../../../src/store/conditions.js';
import type { AppStatus } from '../../../src/store/status-model.js';
import { getJson } from '../api.js';
import { Sparkline } from '../charts.js';
import { h, link, replaceChildren, type Child } from '../dom.js';
import { coalesce } from '../live.js';
import type { Page, PageContext } from '../page.js';
import { hostOf, phaseBadge, problemChips } from '../view.js';

/** The sparkline spans this much history. */
const SPARK_WINDOW = '15m';

interface Column {
  key: string;
  label: string;
  sort: (a: AppStatus, rps: number) => string | number;
  cell: (a: AppStatus) => Child;
}

const revisionOf = (a: AppStatus) => a.revision?.commit.slice(0, 7) ?? a.containerRevision ?? '';

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', sort: (a) => a.name, cell: (a) => link(`/ui/apps/${encodeURIComponent(a.name)}`, a.name) },
  { key: 'phase', label: 'Phase', sort: (a) => a.phase, cell: (a) => phaseBadge(a.phase) },
  { key: 'ready', label: 'Ready', sort: (a) => a.replicas.ready - a.replicas.desired, cell: (a) => `${a.replicas.ready}/${a.replicas.desired}` },
  { key: 'revision', label: 'Revision', sort: revisionOf, cell: (a) => h('code', { title: a.revision?.message ?? '' }, revisionOf(a) || '-') },
  { key: 'image', label: 'Image', sort: (a) => a.spec?.image ?? '', cell: (a) => a.spec?.image ?? '-' },
  { key: 'host', label: 'Host', sort: (a) => hostOf(a), cell: (a) => hostOf(a) || '-' },
  { key: 'age', label: 'Age', sort: (a) => -Date.parse(a.createdAt), cell: (a) => formatAge(a.createdAt) },
  { key: 'rps', label: 'Requests/s', sort: (_a, rps) => rps, cell: () => null },
  { key: 'conditions', label: 'Conditions', sort: (a) => -a.conditions.filter(needsAttention).length, cell: (a) => problemChips(a.conditions) },
];

interface Row {
  tr: HTMLTableRowElement;
  cells: Map<string, HTMLTableCellElement>;
  spark: Sparkline;
  rpsValue: HTMLElement;
}

/** Kept across visits, like a column choice would be. */
const sortState = { key: 'name', descending: false };

export function appsPage(ctx: PageContext): Page {
  const rows = new Map<string, Row>();
  let apps: AppStatus[] | undefined;
  let history: HistoryAnswer['apps'] | undefined;
  const head = h('tr', null);
  const body = h('tbody', null);
  const count = h('span', { class: 'muted' });
  replaceChildren(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Apps'), count),
    h('table', { class: 'apps', 'data-testid': 'apps-table' }, h('thead', null, head), body),
  );

  const drawHead = () =>
    replaceChildren(
      head,
      COLUMNS.map((c) =>
        h(
          'th',
          { class: 'sortable', 'aria-sort': c.key === sortState.key ? (sortState.descending ? 'descending' : 'ascending') : 'none', onclick: () => sortBy(c.key) },
          c.label,
        ),
      ),
    );
  const sortBy = (key: string) => {
    sortState.descending = sortState.key === key ? !sortState.descending : false;
    sortState.key = key;
    drawHead();
    draw();
  };

  // Own entries only: an app may be named like an inherited property ("constructor").
  const seriesOf = (name: string) => (history && Object.hasOwn(history, name) ? history[name] : undefined);
  const latestRps = (name: string) => {
    const values = seriesOf(name)?.rps ?? [];
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i]!;
    return 0;
  };

  const draw = () => {
    // The first draw waits for both answers: one layout and paint of the rows, not two.
    if (!apps || !history) return;
    const column = COLUMNS.find((c) => c.key === sortState.key) ?? COLUMNS[0]!;
    const sorted = [...apps].sort((a, b) => {
      const [x, y] = [column.sort(a, latestRps(a.name)), column.sort(b, latestRps(b.name))];
      const order = x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name);
      return sortState.descending ? -order : order;
    });
    const seen = new Set<string>();
    for (const app of sorted) {
      seen.add(app.name);
      const row = rows.get(app.name) ?? createRow(app.name);
      for (const c of COLUMNS) if (c.key !== 'rps') replaceChildren(row.cells.get(c.key)!, c.cell(app));
      row.tr.classList.toggle('attention', app.conditions.some(needsAttention));
      const series = seriesOf(app.name);
      if (series) row.spark.update(series.t, series.rps ?? []);
      row.rpsValue.textContent = series ? formatRate(latestRps(app.name)) : '-';
      body.appendChild(row.tr); // moves an existing row into sorted order
    }
    for (const [name, row] of rows) {
      if (seen.has(name)) continue;
      row.spark.destroy();
      row.tr.remove();
      rows.delete(name);
    }
    count.textContent = apps.length === 1 ? '1 app' : `${apps.length} apps`;
    if (apps.length === 0) replaceChildren(body, h('tr', null, h('td', { colspan: COLUMNS.length, class: 'empty' }, 'No apps yet: add a manifest.')));
    else body.querySelector('td.empty')?.parentElement?.remove();
  };

  const createRow = (name: string): Row => {
    const tr = h('tr', { 'data-app': name });
    const cells = new Map<string, HTMLTableCellElement>();
    for (const c of COLUMNS) {
      const td = h('td', { class: `col-${c.key}` });
      cells.set(c.key, td);
      tr.appendChild(td);
    }
    const chart = h('span', { class: 'spark' });
    const rpsValue = h('span', { class: 'spark-value' });
    cells.get('rps')!.append(chart, rpsValue);
    const row = { tr, cells, spark: new Sparkline(chart), rpsValue };
    rows.set(name, row);
    return row;
  };

  const loadApps = coalesce(async () => {
    try {
      apps = (await getJson<{ apps: AppStatus[] }>('/apps')).apps;
      draw();
    } catch (err) {
      ctx.fail(err);
    }
  });
  const loadHistory = coalesce(async () => {
    try {
      history = (await getJson<HistoryAnswer>('/history', { fields: 'rps', since: SPARK_WINDOW })).apps;
      draw();
    } catch (err) {
      ctx.fail(err);
    }
  });

  drawHead();
  loadApps();
  loadHistory();
  const off = ctx.live.on((kind) => (kind === 'change' ? loadApps() : loadHistory()));
  return {
    destroy() {
      off();
      for (const row of rows.values()) row.spark.destroy();
    },
  };
}
