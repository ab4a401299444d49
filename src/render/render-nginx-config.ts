// Renders the nginx config for a RouteTable: the apps conf (http-level include, usable alone in a
// system nginx's conf.d) and, for the controller's own master, the main nginx.conf that includes it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RouteTable } from '../core/routes.js';
import { createNginxHandlebars } from './handlebars-helpers.js';
import { loadTemplate } from './load-template.js';
import { buildMainViewModel, type MainViewOptions } from './nginx-main-view-model.js';
import { buildViewModel, type AppsViewOptions } from './nginx-view-model.js';

type Compiled = (context: unknown) => string;
let compiled: { main: Compiled; apps: Compiled } | undefined;

// strict: a field missing from the view model is an error, not an empty string.
// noEscape: helpers produce nginx syntax; HTML escaping would only corrupt it.
function templates(): { main: Compiled; apps: Compiled } {
  if (!compiled) {
    const hbs = createNginxHandlebars();
    const options = { strict: true, noEscape: true };
    compiled = {
      main: hbs.compile(loadTemplate('nginx.conf.hbs'), options),
      apps: hbs.compile(loadTemplate('apps.conf.hbs'), options),
    };
  }
  return compiled;
}

/** The last render, by its input as JSON: a resync renders the same table again to notice hand edits. */
let lastApps: { key: string; result: { text: string; configId: string } } | undefined;

/**
 * Renders the http-level apps conf. Throws InvalidRouteError for a route with an unsafe value.
 * Pure (table and options are plain data), so the last result is reused for the same input:
 * rendering 100 apps costs more than the rest of an idle resync.
 */
export function renderAppsConf(table: RouteTable, opts: AppsViewOptions): { text: string; configId: string } {
  const key = JSON.stringify([table, opts]);
  if (lastApps?.key === key) return lastApps.result;
  const view = buildViewModel(table, opts);
  const result = { text: templates().apps(view), configId: view.configId };
  lastApps = { key, result };
  return result;
}

/** Renders the own master's main conf. */
export function renderMainConf(opts: MainViewOptions): string {
  return templates().main(buildMainViewModel(opts));
}

export function defaultAppsConfPath(prefixDir: string): string {
  return path.join(path.resolve(prefixDir), 'conf', 'apps.conf');
}

/** The Lua balancer the own master loads in lua membership mode (written to <prefix>/lua/). */
export const LUA_BALANCER_FILE = 'autoserve_balancer.lua';

let luaSource: string | undefined;

export function luaBalancerSource(): string {
  luaSource ??= readFileSync(new URL(`./lua/${LUA_BALANCER_FILE}`, import.meta.url), 'utf8');
  return luaSource;
}
