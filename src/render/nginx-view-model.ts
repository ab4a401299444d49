// Turns a RouteTable into what the nginx templates print: every value validated, every decision
// (grouping by host, ordering, 503 for empty upstreams, fallback 404) made here so templates stay
// plain printing.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Address } from '../core/replica.js';
import { compareStrings } from '../core/stable-json.js';
import type { AppRoute, RouteTable } from '../core/routes.js';
import {
  assertHostname,
  assertIpv4,
  assertLoopbackIpv4,
  assertNginxToken,
  assertPathPrefix,
  assertPort,
  nginxString,
} from './nginx-quote.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AppsViewOptions {
  listen: ListenAddress;
  /** Absolute directory for access-<app>.log, access.log and error.log. */
  logsDir: string;
  /**
   * Own master with the Lua module: upstreams name no peers (a placeholder and balancer_by_lua
   * instead), so membership changes leave the text and the config id alone. Default false.
   */
  luaBalancer?: boolean;
  /**
   * Lua mode: the unix socket that serves the membership endpoint. Not the public listener, where
   * every local process is "127.0.0.1": only root can connect to a socket the root master creates.
   */
  controlSocket?: string;
}

/** Proxy tuning printed into every location. Loopback upstreams: connect failures are instant. */
export const DEFAULT_PROXY_SETTINGS = {
  connectTimeout: '2s',
  sendTimeout: '60s',
  readTimeout: '60s',
  nextUpstreamTries: 3,
  upstreamKeepalive: 16,
} as const;

export interface LocationView {
  app: string;
  pathPrefix: string;
  accessLog: string;
  /** false: the app has no ready replica and the location answers 503 itself. */
  hasServers: boolean;
}

export interface ServerView {
  host: string;
  locations: LocationView[];
  /** true when no location is `/`: unrouted paths of a known host answer 404 instead of nginx's html root. */
  needsFallback404: boolean;
}

export interface UpstreamView {
  app: string;
  /** Empty in Lua mode: the peers are POSTed, not rendered. */
  servers: Address[];
}

export interface AppsViewModel {
  /** Hash of everything below; served at /_autoserve/config-id so a reload can be confirmed live. */
  configId: string;
  listen: ListenAddress;
  errorLog: string;
  defaultAccessLog: string;
  proxy: typeof DEFAULT_PROXY_SETTINGS;
  /** Upstreams pick peers with the Lua balancer; the default server takes membership POSTs. */
  luaBalancer: boolean;
  upstreams: UpstreamView[];
  servers: ServerView[];
}

/** One route failed validation. `app` names it so the applier can hold back that app alone. */
export class InvalidRouteError extends Error {
  readonly code = 'INVALID_ROUTE';
  constructor(
    readonly app: string,
    cause: unknown,
  ) {
    super(`route of app ${JSON.stringify(app)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InvalidRouteError';
  }
}

/**
 * Builds the view model of the http-level apps config.
 * Precondition: `table` is de-conflicted (resolveRouteConflicts): no two routes share host+pathPrefix.
 * A violation is not checked here; nginx -t rejects it as "duplicate location" and the applier
 * narrows it to the offending app. Throws InvalidRouteError for a route with an unsafe value.
 */
export function buildViewModel(table: RouteTable, opts: AppsViewOptions): AppsViewModel {
  const listen = { host: assertIpv4(opts.listen.host), port: assertPort(opts.listen.port) };
  const logsDir = absoluteSafePath(opts.logsDir);
  // Peers are validated in Lua mode too: a hostile one degrades its app just like in reload mode.
  const routes = [...table.routes].map(validateRoute).sort((a, b) => compareStrings(a.app, b.app));
  const luaBalancer = opts.luaBalancer ?? false;
  if (luaBalancer && !opts.controlSocket) throw new Error('the Lua balancer needs a controlSocket for its membership endpoint');
  const controlListen = luaBalancer ? `unix:${absoluteSafePath(opts.controlSocket!)}` : undefined;

  // With the Lua balancer every route proxies, with or without peers (no peer: the pick fails and
  // the location answers 503), so an app going to 0 replicas and back (an outage of the container
  // engine, a scale to zero) is a membership change, never a reload.
  const proxies = (r: AppRoute) => luaBalancer || r.servers.length > 0;
  const upstreams: UpstreamView[] = routes.filter(proxies).map((r) => ({ app: r.app, servers: luaBalancer ? [] : r.servers }));

  const byHost = new Map<string, LocationView[]>();
  for (const route of routes) {
    const hostKey = route.host.toLowerCase(); // nginx matches server_name case-insensitively
    const locations = byHost.get(hostKey) ?? [];
    locations.push({
      app: route.app,
      pathPrefix: route.pathPrefix,
      accessLog: absoluteSafePath(path.join(logsDir, `access-${route.app}.log`)),
      hasServers: proxies(route),
    });
    byHost.set(hostKey, locations);
  }
  const servers: ServerView[] = [...byHost.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([host, locations]) => ({
      host,
      locations: locations.sort((a, b) => compareStrings(a.pathPrefix, b.pathPrefix)),
      needsFallback404: !locations.some((l) => l.pathPrefix === '/'),
    }));

  const body = {
    listen,
    errorLog: path.join(logsDir, 'error.log'),
    defaultAccessLog: path.join(logsDir, 'access.log'),
    proxy: DEFAULT_PROXY_SETTINGS,
    luaBalancer,
    controlListen,
    upstreams,
    servers,
  };
  const configId = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return { configId, ...body };
}

function validateRoute(route: AppRoute): AppRoute {
  try {
    const app = assertNginxToken(route.app);
    const host = assertHostname(route.host);
    const pathPrefix = assertPathPrefix(route.pathPrefix);
    const unique = new Map<string, Address>();
    for (const s of route.servers) {
      const server = { host: assertLoopbackIpv4(s.host), port: assertPort(s.port) };
      unique.set(`${server.host}:${server.port}`, server);
    }
    // Sorted so that the same membership in another order renders the same text (no reload).
    const servers = [...unique.values()].sort((a, b) => compareStrings(a.host, b.host) || a.port - b.port);
    return { app, host, pathPrefix, servers };
  } catch (err) {
    throw new InvalidRouteError(String(route.app), err);
  }
}

/** Validates a filesystem path for printing (nginxString's rules) and makes it absolute. */
export function absoluteSafePath(p: string): string {
  const abs = path.resolve(p);
  nginxString(abs);
  return abs;
}

