// Small pieces the pages share: phase badges, condition chips, empty states, tables.
import { needsAttention } from '../../src/store/conditions.js';
import type { AppStatus, Condition } from '../../src/store/status-model.js';
import { h, type Child } from './dom.js';

export function phaseBadge(phase: string): HTMLElement {
  return h('span', { class: `badge phase-${phase}` }, phase);
}

/** The conditions a person should look at, as chips with the message on hover. */
export function problemChips(conditions: readonly Condition[]): HTMLElement[] {
  return conditions.filter(needsAttention).map((c) => h('span', { class: 'chip problem', title: `${c.reason}: ${c.message}` }, c.type === 'Ready' ? c.reason : c.type));
}

export function table(header: string[], rows: Child[][], empty = 'none'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    null,
    h('thead', null, h('tr', null, header.map((label) => h('th', null, label)))),
    h('tbody', null, rows.map((cells) => h('tr', null, cells.map((cell) => h('td', null, cell))))),
  );
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}

/** "12:03:04" for today's times, the date too for older ones. */
export function clock(iso: string): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour12: false }) : d.toLocaleString([], { hour12: false });
}

/** Where nginx routes the app: host, and the path prefix when it is not "/". */
export function hostOf(a: AppStatus): string {
  if (!a.spec) return '';
  const { host, pathPrefix } = a.spec.ingress;
  return pathPrefix === '/' ? host : `${host}${pathPrefix}`;
}
