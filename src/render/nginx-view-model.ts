// Turns a RouteTable into what the nginx templates print: every value validated, every decision
// (grouping by host, ordering, 503 for empty upstreams, fallback 404) made here so templates stay
// plain printing.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { ACCESS_LOG_BUFFER, ACCESS_LOG_FLUSH_SECONDS } from '../core/access-log-buffer.js';
import type { Address } from '../core/replica.js';
import { compareStrings } from '../core/stable-json.js';
import type { AppRoute, ControlListener, RouteHold, RouteTable } from '../core/routes.js';
import {
  assertHostname,
  assertIpv4,
  assertLoopbackIpv4,
  assertPeerIpv4,
  assertNginxToken,
  assertPathPrefix,
  assertPort,
  assertPositiveInteger,
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
   * Where the controller's checks (config id, stub_status) and, in Lua mode, the membership
   * endpoint are served: never the public listener, where any app host could take them. A unix
   * socket (in a root-only directory: only root reaches it) or a loopback address of its own.
   */
  control: ControlListener;
  /**
   * A system nginx's server_names hash: `own` when the main config sets no bucket size (the apps
   * conf sets one big enough for any valid host), or the bucket size the main config sets (hosts
   * longer than it holds are refused per app: nginx -t would refuse the whole config). Unset: our
   * own master, whose main conf sets it.
   */
  serverNamesHash?: { own: true } | { bucketSize: number };
}

/** Fits the longest valid hostname (253) in one server_names hash bucket. */
export const SERVER_NAMES_HASH_BUCKET_SIZE = 512;

/**
 * The longest server name nginx fits in a hash bucket of `bucketSize` bytes (on 64-bit): nginx
 * rounds the bucket up to a cache line (64) and needs a pointer, 2 length bytes and the name,
 * pointer-aligned, plus a terminating pointer. 64 -> 46 characters.
 */
export function maxServerNameLength(bucketSize: number): number {
  const bucket = Math.ceil(bucketSize / 64) * 64;
  return bucket - 8 - 8 - 2;
}

/**
 * Proxy tuning printed into every location and upstream. upstreamKeepalive is the idle connections
 * each worker keeps per app: it must cover the requests a worker has in flight to the app, or every
 * excess request opens (and closes) a connection; at 16 that churn cost about a third of nginx's
 * CPU per request under 32 clients (docs/benchmarks.md). Idle connections cost the replica only a
 * socket until its own keep-alive timeout closes them.
 */
export const DEFAULT_PROXY_SETTINGS = {
  connectTimeout: '2s',
  sendTimeout: '60s',
  readTimeout: '60s',
  nextUpstreamTries: 3,
  upstreamKeepalive: 256,
} as const;

/** Access-log buffering printed beside every access_log (core/access-log-buffer). */
export const ACCESS_LOG_BUFFERING = { buffer: ACCESS_LOG_BUFFER, flush: `${ACCESS_LOG_FLUSH_SECONDS}s` } as const;

export interface LocationView {
  app: string;
  pathPrefix: string;
  accessLog: string;
  /** false: the app has no ready replica and the location answers 503 itself. */
  hasServers: boolean;
  /** Lua mode, scale to zero: the location proxies even without a peer, and a request waits for one. */
  hold: RouteHold | null;
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
  accessLogBuffering: typeof ACCESS_LOG_BUFFERING;
  /** Upstreams pick peers with the Lua balancer; the control server takes membership POSTs. */
  luaBalancer: boolean;
  /** The control server's listen argument: `unix:/path` or `127.0.0.2:8080`. */
  controlListen: string;
  /** Printed as server_names_hash_bucket_size (system nginx whose main config sets none); null: not printed. */
  serverNamesHashBucketSize: number | null;
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
  const hash = opts.serverNamesHash;
  const maxHost = hash && 'bucketSize' in hash ? maxServerNameLength(hash.bucketSize) : undefined;
  const routes = [...table.routes].map((r) => validateRoute(r, maxHost)).sort((a, b) => compareStrings(a.app, b.app));
  const luaBalancer = opts.luaBalancer ?? false;
  const controlListen = controlListenOf(opts.control, listen);

  // Only the Lua balancer can hold a request: in reload mode a route without servers answers 503.
  const holdOf = (r: AppRoute): RouteHold | null => (luaBalancer && r.hold ? r.hold : null);
  // With the Lua balancer every route proxies, with or without peers (no peer and no hold: the pick
  // fails and the location answers 503), so an app going to 0 replicas and back (an outage of the
  // container engine, a scale to zero) is a membership change, never a reload.
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
      hold: holdOf(route),
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
    accessLogBuffering: ACCESS_LOG_BUFFERING,
    luaBalancer,
    serverNamesHashBucketSize: hash && 'own' in hash ? SERVER_NAMES_HASH_BUCKET_SIZE : null,
    controlListen,
    upstreams,
    servers,
  };
  const configId = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return { configId, ...body };
}

/** The control server's listen argument; refuses the public address, where app hosts are served. */
function controlListenOf(control: ControlListener, listen: ListenAddress): string {
  if ('socketPath' in control) return `unix:${absoluteSafePath(control.socketPath)}`;
  const address = { host: assertLoopbackIpv4(control.host), port: assertPort(control.port) };
  // Another address on the public port is fine, even under a wildcard public listen: nginx picks
  // the server blocks of the most specific address a connection came to.
  if (address.port === listen.port && address.host === listen.host) throw new Error(`the control listener ${address.host}:${address.port} is the public listener, where app hosts would reach it`);
  return `${address.host}:${address.port}`;
}

function validateRoute(route: AppRoute, maxHostLength: number | undefined): AppRoute {
  try {
    const app = assertNginxToken(route.app);
    const host = assertHostname(route.host);
    if (maxHostLength !== undefined && host.length > maxHostLength) {
      throw new Error(
        `host is ${host.length} characters; the system nginx's server_names_hash_bucket_size holds at most ${maxHostLength}: `
        + 'raise it in its main config, or use a shorter host',
      );
    }
    const pathPrefix = assertPathPrefix(route.pathPrefix);
    const unique = new Map<string, Address>();
    for (const s of route.servers) {
      const server = { host: assertPeerIpv4(s.host), port: assertPort(s.port) };
      unique.set(`${server.host}:${server.port}`, server);
    }
    // Sorted so that the same membership in another order renders the same text (no reload).
    const servers = [...unique.values()].sort((a, b) => compareStrings(a.host, b.host) || a.port - b.port);
    if (!route.hold) return { app, host, pathPrefix, servers };
    const hold = { timeoutSeconds: assertPositiveInteger(route.hold.timeoutSeconds), startingPage: route.hold.startingPage === true };
    return { app, host, pathPrefix, servers, hold };
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

