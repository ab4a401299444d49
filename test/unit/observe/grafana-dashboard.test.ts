// The Grafana dashboard in docs/ may only query metrics AutoServe really exports, under their
// real names (a renamed metric must fail here, not in someone's Grafana).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoserveMetrics } from '../../../src/observe/metrics.js';

const DASHBOARD = join(import.meta.dirname, '..', '..', '..', 'docs', 'grafana', 'autoserve-dashboard.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

describe('docs/grafana/autoserve-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; annotations: { list: { expr?: string }[] }; templating: { list: { definition?: string }[] } };
  const queries = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
    ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
  ];

  it('queries only metrics the registry exports', async () => {
    const exported = new Set((await new AutoserveMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(queries.flatMap((q) => q.match(/\bautoserve_[a-z0-9_]+/g) ?? []).map((n) => n.replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('has unique panel ids, a place on the grid for each panel, and a query in every non-row panel', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });
});
