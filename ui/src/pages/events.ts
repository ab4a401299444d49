// The audit log, newest first, filterable by app and type; the filters live in the URL so a
// filtered view can be shared or reloaded.
import type { AppStatus, EventRecord } from '../../../src/store/status-model.js';
import { getJson } from '../api.js';
import { h, link, replaceChildren } from '../dom.js';
import { coalesce } from '../live.js';
import type { Page, PageContext } from '../page.js';
import { clock, table } from '../view.js';

/** The newest this many events are shown (the store keeps 2,000). */
const EVENT_LIMIT = 500;
const TYPES = ['', 'Normal', 'Warning'];

export function eventsPage(ctx: PageContext): Page {
  let app = ctx.query.get('app') ?? '';
  let type = ctx.query.get('type') ?? '';
  let events: EventRecord[] = [];
  const appSelect = h('select', { name: 'app', 'aria-label': 'app', onchange: () => setFilter() }, h('option', { value: '' }, 'all apps'));
  const typeSelect = h('select', { name: 'type', 'aria-label': 'type', onchange: () => setFilter() }, TYPES.map((t) => h('option', { value: t }, t || 'all types')));
  typeSelect.value = type;
  const list = h('div', { 'data-testid': 'events' });
  replaceChildren(ctx.main, h('div', { class: 'page-head' }, h('h1', null, 'Events'), h('div', { class: 'filters' }, appSelect, typeSelect)), list);

  const setFilter = () => {
    app = appSelect.value;
    type = typeSelect.value;
    const query = new URLSearchParams();
    if (app) query.set('app', app);
    if (type) query.set('type', type);
    const search = query.toString();
    history.replaceState(null, '', `/ui/events${search ? `?${search}` : ''}`);
    load();
  };

  const draw = () => {
    const shown = events.filter((e) => type === '' || e.type === type).reverse();
    replaceChildren(
      list,
      table(
        ['Time', 'Type', 'Reason', 'App', 'Message', 'Count'],
        shown.map((e) => [
          clock(e.time),
          h('span', { class: `type-${e.type}` }, e.type),
          e.reason,
          e.app ? link(`/ui/apps/${encodeURIComponent(e.app)}`, e.app) : '-',
          e.message,
          String(e.count),
        ]),
        'No events match.',
      ),
    );
  };

  const load = coalesce(async () => {
    try {
      const [{ events: list }, { apps }] = await Promise.all([
        getJson<{ events: EventRecord[] }>('/events', { app, limit: EVENT_LIMIT }),
        getJson<{ apps: AppStatus[] }>('/apps'),
      ]);
      events = list;
      const names = new Set([...apps.map((a) => a.name), ...(app ? [app] : [])]);
      replaceChildren(appSelect, h('option', { value: '' }, 'all apps'), [...names].sort().map((n) => h('option', { value: n }, n)));
      appSelect.value = app;
      draw();
    } catch (err) {
      ctx.fail(err);
    }
  });

  load();
  const off = ctx.live.on((kind) => kind === 'change' && load());
  return { destroy: off };
}
