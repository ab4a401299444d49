// The HTTP endpoint: read-only status (JSON), Prometheus metrics, and — only behind
// --enable-write-api with a token — write calls that edit manifest files. node:http, no framework.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiDeps } from './api-deps.js';
import { requireAuth } from './auth.js';
import { ChangeFeed } from './change-feed.js';
import { HttpError } from './http-error.js';
import { DEFAULT_HTTP_LIMITS } from './http-limits.js';
import { Router } from './router.js';
import { addAppRoutes } from './routes/apps.js';
import { addEventRoutes } from './routes/events.js';
import { addHealthRoutes } from './routes/health.js';
import { addHistoryRoutes } from './routes/history.js';
import { addUiRoutes, isOpenUiPath } from './routes/ui.js';
import { addWatchRoute } from './routes/watch.js';
import { addLogRoutes } from './routes/logs.js';
import { addPrometheusRoute } from './routes/prometheus.js';
import { addWriteRoutes } from './routes/write.js';
import { UiSessions } from './ui-session.js';

export type { ApiDeps } from './api-deps.js';

/**
 * Paths anyone may call even when a token is set: liveness must work for a supervisor without
 * secrets; the dashboard's shell, assets and login hold no data (isOpenUiPath).
 */
const OPEN_PATHS = new Set(['/healthz']);

/** Run by closeServer before closing: ends the event streams that would otherwise hold it open. */
const beforeClose = new WeakMap<http.Server, () => void>();

export function buildRouter(deps: ApiDeps, feed: ChangeFeed, sessions: UiSessions): Router {
  const router = new Router();
  addHealthRoutes(router, deps);
  addAppRoutes(router, deps);
  addEventRoutes(router, deps);
  addLogRoutes(router, deps);
  addHistoryRoutes(router, deps);
  addPrometheusRoute(router, deps);
  addWriteRoutes(router, deps);
  addWatchRoute(router, feed);
  addUiRoutes(router, deps, sessions);
  return router;
}

/**
 * Creates (does not start) the API server. Throws when the write API is asked for without a token:
 * an unauthenticated write endpoint would let any local process rewrite the manifests.
 */
export function createApiServer(deps: ApiDeps): http.Server {
  if (deps.enableWriteApi && !deps.authToken) {
    throw new Error('--enable-write-api requires a token (--auth-token-file or AUTOSERVE_AUTH_TOKEN)');
  }
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.httpLimits };
  const feed = new ChangeFeed({
    storeChanges: () => deps.store.changeCount,
    historyAt: () => deps.history?.lastRecordedAt ?? 0,
    maxStreams: limits.maxWatchStreams,
  });
  const sessions = new UiSessions();
  const router = buildRouter(deps, feed, sessions);
  const log = deps.logger.child({ component: 'api' });
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    (req, res) => {
      void handle(req, res).catch((err: unknown) => {
        log.error({ err: String(err) }, 'api response failed');
        res.destroy();
      });
    },
  );
  server.maxConnections = limits.maxConnections;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: unknown;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      if (deps.authToken && !OPEN_PATHS.has(url.pathname) && !isOpenUiPath(url.pathname)) requireAuth(req, deps.authToken, sessions);
      const { handler, params } = router.match(method, url.pathname);
      body = await handler({ req, res, params, query: url.searchParams });
      if (body === undefined && res.headersSent) return; // the handler answered itself
    } catch (err) {
      if (!(err instanceof HttpError)) {
        log.error({ err: String(err), url: req.url }, 'api handler failed');
        err = new HttpError(500, 'InternalError', err instanceof Error ? err.message : String(err));
      }
      const e = err as HttpError;
      for (const [name, value] of Object.entries(e.headers)) res.setHeader(name, value);
      res.statusCode = e.status;
      body = { error: e.code, message: e.message, ...e.details };
    }
    sendJson(res, body);
  }

  beforeClose.set(server, () => feed.close());
  return server;
}

function sendJson(res: http.ServerResponse, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

/** Starts listening; resolves with the bound port (useful with port 0). Rejects on EADDRINUSE etc. */
export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`status endpoint cannot listen on ${host}:${port} (${err.code ?? err.message})`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, ends idle keep-alive connections, resolves when closed. */
export function closeServer(server: http.Server): Promise<void> {
  beforeClose.get(server)?.();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
